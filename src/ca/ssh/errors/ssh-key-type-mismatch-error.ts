import { SshPublicKeyRejectedError } from './ssh-public-key-rejected-error';

/** The key type written before the key data differs from the type inside the key data. */
export class SshKeyTypeMismatchError extends SshPublicKeyRejectedError {
  readonly code = 'SSH_KEY_TYPE_MISMATCH';
}
