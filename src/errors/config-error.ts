import { AccessBotError } from './access-bot-error';

/** Environment or workflow configuration is invalid; `problems` lists every one found. */
export class ConfigError extends AccessBotError {
  readonly code = 'CONFIG_INVALID';
  override readonly status = 500;

  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(problems.length ? `${message}\n${problems.map((p) => `  ${p}`).join('\n')}` : message);
  }
}
