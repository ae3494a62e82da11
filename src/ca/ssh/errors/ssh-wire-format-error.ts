import { AccessBotError } from '../../../errors/access-bot-error';

/** SSH wire-format data is truncated, has trailing bytes or an invalid field. */
export class SshWireFormatError extends AccessBotError {
  readonly code = 'SSH_WIRE_MALFORMED';
}
