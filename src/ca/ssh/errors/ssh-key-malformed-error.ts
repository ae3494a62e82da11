import { SshPublicKeyRejectedError } from './ssh-public-key-rejected-error';

/** The text is not a well-formed OpenSSH public key line, or its key data is corrupt. */
export class SshKeyMalformedError extends SshPublicKeyRejectedError {
  readonly code = 'SSH_KEY_MALFORMED';
}
