import { AUDIT_EVENT_TYPES as A } from '../engine/audit-event-types';
import type { RedisAuditLog } from '../audit/redis-audit-log';
import { parseSshPublicKey } from '../ca/ssh/ssh-public-key';
import { parseX509PublicKeyInput } from '../ca/x509/x509-public-key';
import type { Channel } from '../engine/types';
import { AccessBotError } from '../errors/access-bot-error';
import type { RegisteredKey } from '../requests/ports';
import type { RedisKeyRegistry } from '../store/redis-key-registry';
import { KeyRejectedError } from './errors/key-rejected-error';

export const MAX_KEYS_PER_USER = 10;

/** Parses a submitted public key: an OpenSSH line, a PEM public key, or a PEM CSR. */
export function parsePublicKey(text: string, now: number): RegisteredKey {
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith('-----BEGIN')) {
      const parsed = parseX509PublicKeyInput(trimmed);
      const type = parsed.publicKey.asymmetricKeyType ?? 'unknown';
      return {
        fingerprint: `SHA256:${parsed.fingerprintSha256.replace(/:/g, '').toLowerCase()}`,
        kind: 'x509',
        algorithm: type,
        text: trimmed,
        addedAt: now,
        ...(parsed.source === 'csr' ? { comment: 'from a CSR' } : {}),
      };
    }
    const key = parseSshPublicKey(trimmed);
    return {
      fingerprint: key.fingerprint,
      kind: 'ssh',
      algorithm: key.type,
      text: `${key.type} ${key.blob.toString('base64')}${key.comment ? ` ${key.comment}` : ''}`,
      addedAt: now,
      ...(key.comment ? { comment: key.comment } : {}),
    };
  } catch (err) {
    if (err instanceof AccessBotError) throw new KeyRejectedError(err.message, err.code);
    throw err;
  }
}

/** Registering and removing users' public keys, each step audited. Private keys never reach us. */
export class KeyService {
  private readonly registered: ((userId: string, key: RegisteredKey) => void)[] = [];

  constructor(
    private readonly registry: RedisKeyRegistry,
    private readonly audit: RedisAuditLog,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Called after each key registration (e.g. PagerDuty incident grants waiting for this person's key). */
  onRegistered(listener: (userId: string, key: RegisteredKey) => void): void {
    this.registered.push(listener);
  }

  list(userId: string): Promise<RegisteredKey[]> {
    return this.registry.list(userId);
  }

  /** Stores the key and audits its fingerprint; refuses (and audits why) malformed, weak or unsupported keys. */
  async register(userId: string, text: string, via: Channel, actorId = userId): Promise<RegisteredKey> {
    const now = this.clock();
    let key: RegisteredKey;
    try {
      key = parsePublicKey(text, now);
      if (!(await this.registry.get(userId, key.fingerprint)) && (await this.registry.count(userId)) >= MAX_KEYS_PER_USER)
        throw new KeyRejectedError(`You already have ${MAX_KEYS_PER_USER} keys registered; remove one first.`, 'KEY_LIMIT');
    } catch (err) {
      if (err instanceof KeyRejectedError)
        await this.audit.append(
          [{ type: A.keyRefused, actor: { id: actorId, via }, data: { user: userId, code: err.reasonCode, message: err.message } }],
          now,
        );
      throw err;
    }
    await this.registry.put(userId, key);
    await this.audit.append(
      [{ type: A.keyRegistered, actor: { id: actorId, via }, data: { user: userId, fingerprint: key.fingerprint, kind: key.kind, algorithm: key.algorithm } }],
      now,
    );
    for (const listener of this.registered) listener(userId, key);
    return key;
  }

  async remove(userId: string, fingerprint: string, via: Channel): Promise<boolean> {
    const removed = await this.registry.remove(userId, fingerprint);
    if (removed)
      await this.audit.append([{ type: A.keyRemoved, actor: { id: userId, via }, data: { user: userId, fingerprint } }], this.clock());
    return removed;
  }
}
