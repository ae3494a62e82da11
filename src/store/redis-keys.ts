/**
 * Every Redis key access-bot uses. All share one hash tag (`{prefix}`) so the multi-key Lua
 * scripts stay valid on Redis Cluster (one slot; see docs/operations.md).
 */
export class RedisKeys {
  readonly base: string;

  constructor(readonly prefix: string) {
    this.base = `{${prefix}}`;
  }

  request(id: string): string {
    return `${this.base}:req:${id}`;
  }
  stateIndex(state: string): string {
    return `${this.base}:idx:state:${state}`;
  }
  requesterIndex(userId: string): string {
    return `${this.base}:idx:requester:${userId}`;
  }
  approverIndex(userId: string): string {
    return `${this.base}:idx:approver:${userId}`;
  }
  /** Approved and issued grants scored by expiry: what the reconciler sweeps. */
  get expiryIndex(): string {
    return `${this.base}:idx:expiry`;
  }
  get auditStream(): string {
    return `${this.base}:audit`;
  }
  get auditHead(): string {
    return `${this.base}:audit:head`;
  }
  get serialCounter(): string {
    return `${this.base}:ca:serial`;
  }
  userKeys(userId: string): string {
    return `${this.base}:keys:${userId}`;
  }
  /** Public CA material the worker publishes and the bot serves (never private keys). */
  get caPublic(): string {
    return `${this.base}:ca:public`;
  }
  get revokedSerials(): string {
    return `${this.base}:ca:revoked`;
  }
  /** A delivery already accepted: a signed Slack request (`slack`, `ts:signature`) or a webhook id. */
  delivery(source: string, id: string): string {
    return `${this.base}:seen:${source}:${id}`;
  }
  /** Per-adapter state about a request (Slack message refs, Jira issue key). */
  adapterState(adapter: string, requestId: string): string {
    return `${this.base}:${adapter}:req:${requestId}`;
  }
}
