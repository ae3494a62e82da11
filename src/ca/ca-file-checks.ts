import { createPrivateKey, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { CaDirectoryPermissionError } from './errors/ca-directory-permission-error';
import { CaFileOwnerError } from './errors/ca-file-owner-error';
import { CaFilePermissionError } from './errors/ca-file-permission-error';
import { CaKeyPermissionError } from './errors/ca-key-permission-error';

/**
 * The checks sshd's StrictModes makes, for the CA directory: whoever can write a CA file or its
 * directory can swap in keys or a CA certificate of their own, which the worker would then sign
 * with or publish as trusted. Files and directories must belong to the user running access-bot
 * (or root, who can read and replace anything anyway), directories and public files must not be
 * writable by group or others, and private keys not readable by them.
 */

function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function whoMayWrite(mode: number): string {
  const group = (mode & 0o020) !== 0;
  const others = (mode & 0o002) !== 0;
  return group && others ? 'its group and all users' : group ? 'its group' : 'all users';
}

function assertOwned(path: string, stats: Stats, what: string): void {
  const uid = currentUid();
  if (uid === undefined || stats.uid === uid || stats.uid === 0) return;
  throw new CaFileOwnerError(
    `${path} is owned by uid ${stats.uid}, not by uid ${uid} that runs access-bot: that user can replace ${what}. ` +
      `If you did not set it up that way, treat the CA as compromised and create a new one; otherwise run \`chown ${uid} ${path}\`.`,
  );
}

/** A directory holding CA keys: owned by us (or root) and writable by nobody else. */
export function assertPrivateDirectory(dir: string): void {
  const stats = statSync(dir);
  assertOwned(dir, stats, 'the CA keys in it');
  if (stats.mode & 0o022) {
    throw new CaDirectoryPermissionError(
      `${dir} is writable by ${whoMayWrite(stats.mode)} (mode ${octal(stats.mode)}): they could replace the CA keys, certificates or trust file in it. ` +
        `Run \`chmod go-w ${dir}\` (\`chmod 700 ${dir}\` is best). The worker will not use a CA directory others can write to.`,
    );
  }
}

/** A private key: owned by us (or root), mode 0600 or tighter. */
export function readPrivateKeyFile(path: string): KeyObject {
  const stats = statSync(path);
  assertOwned(path, stats, 'this CA private key');
  if (stats.mode & 0o077) {
    throw new CaKeyPermissionError(
      `${path} is readable by other users (mode ${octal(stats.mode)}); run \`chmod 600 ${path}\`. The worker will not use a CA key others can read.`,
    );
  }
  return createPrivateKey(readFileSync(path));
}

/** A public CA file (certificate, public key, trust file): owned by us (or root), writable by nobody else. */
export function readPublicCaFile(path: string): string {
  const stats = statSync(path);
  assertOwned(path, stats, 'this file, and with it what access-bot publishes as trusted');
  if (stats.mode & 0o022) {
    throw new CaFilePermissionError(
      `${path} is writable by ${whoMayWrite(stats.mode)} (mode ${octal(stats.mode)}): they could make access-bot publish a CA of theirs as trusted. ` +
        `Run \`chmod go-w ${path}\`.`,
    );
  }
  return readFileSync(path, 'utf8');
}

/**
 * Creates the directory for `ca init` with mode 0700, or tightens an existing one of ours to 0700.
 * A directory of another user is refused: its owner could replace the keys whatever its mode.
 */
export function prepareCaDirectory(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stats = statSync(dir);
  const uid = currentUid();
  if (uid !== undefined && stats.uid !== uid) {
    throw new CaFileOwnerError(
      `${dir} is owned by uid ${stats.uid}, not by uid ${uid} that runs \`ca init\`: its owner could replace the CA keys, ` +
        `so access-bot will not create a CA there. Use a directory of your own, or run \`chown ${uid} ${dir} && chmod 700 ${dir}\` first.`,
    );
  }
  if ((stats.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}
