import { SshPublicKeyRejectedError } from './ssh-public-key-rejected-error';

/** An RSA key shorter than the accepted minimum. */
export class SshKeyTooWeakError extends SshPublicKeyRejectedError {
  readonly code = 'SSH_KEY_TOO_WEAK';
}
