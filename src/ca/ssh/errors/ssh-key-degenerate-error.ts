import { SshPublicKeyRejectedError } from './ssh-public-key-rejected-error';

/**
 * An Ed25519 key no key generator makes: a small-order point (signatures for it can be forged
 * without a private key) or a non-canonical encoding of a point.
 */
export class SshKeyDegenerateError extends SshPublicKeyRejectedError {
  readonly code = 'SSH_KEY_DEGENERATE';
}
