import { AccessBotError } from '../../../errors/access-bot-error';

/** The fields given to the certificate signer are invalid (for example no principals, or an empty validity window); nothing was signed. */
export class SshCertificateRequestInvalidError extends AccessBotError {
  readonly code = 'SSH_CERT_REQUEST_INVALID';
}
