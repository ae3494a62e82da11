import { AccessBotError } from '../../../errors/access-bot-error';

/** A certificate could not be decoded, or its CA signature does not verify. */
export class SshCertificateInvalidError extends AccessBotError {
  readonly code = 'SSH_CERT_INVALID';
}
