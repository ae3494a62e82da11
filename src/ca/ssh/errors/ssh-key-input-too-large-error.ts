import { SshPublicKeyRejectedError } from './ssh-public-key-rejected-error';

/** The submitted text is larger than any public key access-bot accepts. */
export class SshKeyInputTooLargeError extends SshPublicKeyRejectedError {
  readonly code = 'SSH_KEY_INPUT_TOO_LARGE';
  override readonly status = 413;
}
