import { SshPublicKeyRejectedError } from './ssh-public-key-rejected-error';

/** A private key was submitted instead of a public key. The message never contains the key. */
export class SshPrivateKeySubmittedError extends SshPublicKeyRejectedError {
  readonly code = 'SSH_PRIVATE_KEY_SUBMITTED';
}
