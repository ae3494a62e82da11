import { SshPublicKeyRejectedError } from './ssh-public-key-rejected-error';

/** A certificate was submitted where a plain public key is expected. */
export class SshKeyIsCertificateError extends SshPublicKeyRejectedError {
  readonly code = 'SSH_KEY_IS_CERTIFICATE';
}
