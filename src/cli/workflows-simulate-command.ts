import type { CliCommand } from './cli-io';
// TEMPORARY during the first session: replaced by the real command.
export const workflowsSimulateCommand: CliCommand = async (_args, io) => {
  io.stderr.write('not built yet\n');
  return 3;
};
