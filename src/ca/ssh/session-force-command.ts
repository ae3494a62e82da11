import { SshCertificateRequestInvalidError } from './errors/ssh-certificate-request-invalid-error';

/** The default install path of scripts/access-bot-session on servers (see docs/ca-trust.md). */
export const DEFAULT_SESSION_WRAPPER_PATH = '/usr/local/bin/access-bot-session';

/**
 * The force-command value that runs the session under `scripts/access-bot-session`, which ends
 * the session when the certificate expires. `validBefore` is the certificate's (epoch ms) and is
 * rounded down to seconds exactly as the certificate encodes it. When the resource has its own
 * force-command, the wrapper runs that instead of the client's command.
 */
export function sessionForceCommand(wrapperPath: string, validBefore: number, resourceForceCommand?: string): string {
  if (typeof wrapperPath !== 'string' || !/^\/[A-Za-z0-9._/+-]+$/.test(wrapperPath)) {
    throw new SshCertificateRequestInvalidError(
      'The session wrapper path must be absolute and contain only letters, digits and . _ / + -.',
    );
  }
  if (typeof validBefore !== 'number' || !Number.isFinite(validBefore) || validBefore <= 0) {
    throw new SshCertificateRequestInvalidError('validBefore must be a time in epoch milliseconds.');
  }
  const expirySeconds = Math.floor(validBefore / 1000);
  if (resourceForceCommand === undefined) return `${wrapperPath} ${expirySeconds}`;
  if (resourceForceCommand.trim() === '' || /[\u0000\r\n]/.test(resourceForceCommand)) {
    throw new SshCertificateRequestInvalidError('force-command must be a non-empty command on one line.');
  }
  return `${wrapperPath} ${expirySeconds} ${shellQuote(resourceForceCommand)}`;
}

/** Quotes one argument for the user's shell, which sshd uses to run the force-command. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
