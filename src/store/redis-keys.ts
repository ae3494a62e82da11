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
    return `${this.requestPrefix}${id}`;
  }
  get requestPrefix(): string {
    return `${this.base}:req:`;
  }
  /** The one open request a person may have for a resource (through the normal workflow). */
  resourceSlot(userId: string, resource: string): string {
    return `${this.base}:slot:res:${userId}:${resource}`;
  }
  /** The one open break-glass grant a person may have for a resource. */
  breakGlassSlot(userId: string, resource: string): string {
    return `${this.base}:slot:bg:${userId}:${resource}`;
  }
  /** The one open extension a grant may have: extend the extension, not the grant, to go further. */
  extensionSlot(parentId: string): string {
    return `${this.base}:slot:ext:${parentId}`;
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
  /** Stream ids of a request's audit events, in order (`audit export --request`). */
  auditRequestIndex(requestId: string): string {
    return `${this.base}:audit:req:${requestId}`;
  }
  /** Stream ids of the audit events a person did or is named in, in order (`audit export --user`). */
  auditUserIndex(userId: string): string {
    return `${this.base}:audit:user:${userId}`;
  }
  /** The last event trimmed from the stream (archived): where verification of the stream starts. */
  get auditAnchor(): string {
    return `${this.base}:audit:anchor`;
  }
  /** One retention sweep at a time across replicas. */
  get retentionLock(): string {
    return `${this.base}:retention:lock`;
  }
  /** A periodic access review campaign (reviews: in the workflow files). */
  accessReview(campaignId: string): string {
    return `${this.base}:review:${campaignId}`;
  }
  /** Changes access reviewers asked for, waiting for an admin (id → JSON). */
  get pendingChanges(): string {
    return `${this.base}:changes`;
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
  /** A fixed-window counter of one kind (`requests`, `refusals`) for one person. */
  rateLimit(bucket: string, subject: string, window: number): string {
    return `${this.base}:rl:${bucket}:${subject}:${window}`;
  }
  /** Refusals not written to the audit log because of the rate limit, per person, until reported. */
  get suppressedCount(): string {
    return `${this.base}:rl:suppressed:count`;
  }
  get suppressedSince(): string {
    return `${this.base}:rl:suppressed:since`;
  }
  /** A delivery already accepted: a signed Slack request (`slack`, `ts:signature`) or a webhook id. */
  delivery(source: string, id: string): string {
    return `${this.base}:seen:${source}:${id}`;
  }
  /** Slack DM channel ids by user id (conversations.open once per person, shared by replicas); in the `:ad:` family. */
  get slackDmChannels(): string {
    return `${this.base}:ad:slack:dm-channels`;
  }
  /** Who has opened the App Home (user id → when): only their Home is re-published after a change. */
  get slackHomeOpened(): string {
    return `${this.base}:ad:slack:home-opened`;
  }
  /** Per-adapter state about a request (Slack message refs, Jira issue key): one key family, `:ad:`, for every adapter. */
  adapterState(adapter: string, requestId: string): string {
    return `${this.base}:ad:${adapter}:req:${requestId}`;
  }
  /** One worker at a time brings a request's Jira issue in line (a short lease, under the adapters' family). */
  adapterLock(adapter: string, requestId: string): string {
    return `${this.base}:ad:${adapter}:lock:${requestId}`;
  }
  /** Per-adapter state not about one request, such as the Jira poll's cursor. */
  adapterGlobal(adapter: string, name: string): string {
    return `${this.base}:ad:${adapter}:${name}`;
  }
}
