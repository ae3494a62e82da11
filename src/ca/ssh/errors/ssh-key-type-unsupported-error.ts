import { SshPublicKeyRejectedError } from './ssh-public-key-rejected-error';

/** A key type access-bot does not certify (DSA, security keys, unknown types). */
export class SshKeyTypeUnsupportedError extends SshPublicKeyRejectedError {
  readonly code = 'SSH_KEY_TYPE_UNSUPPORTED';
}
