/**
 * Redis ACL rules for the two processes, so each runs as its own Redis user with only what it
 * needs: the bot never writes the CA's published material, serial counter or revocation list (only
 * the worker does), the worker never writes users' registered keys, and neither may run admin or
 * dangerous commands (CONFIG, FLUSHALL, KEYS, MONITOR, DEBUG…) or touch keys outside its prefix.
 * `access-bot redis acl --role bot|worker` prints these; docs/security.md shows how to use them,
 * and a test runs bot and worker under them over TLS.
 */
export type RedisRole = 'bot' | 'worker';

/** Key families under `{prefix}:` (see RedisKeys). */
const FAMILIES = {
  requests: ['req:*', 'idx:*', 'slot:*'],
  audit: ['audit*'],
  keys: ['keys:*'],
  seen: ['seen:*'],
  rateLimits: ['rl:*'],
  /** Adapter state: Slack message refs, DM channel ids (`ad:slack:dm-channels`) and who opened the App Home; delivered DMs (`ad:delivery:`); Jira issue keys, follow-up markers, locks and the poll cursor. */
  adapters: ['ad:*'],
  ca: ['ca:*'],
  /** One retention sweep at a time (both processes sweep). */
  retention: ['retention:*'],
  /** Access review campaigns (the worker starts them, the bot records answers) and pending changes. */
  reviews: ['review:*', 'changes'],
} as const;

type Family = keyof typeof FAMILIES;

const ACCESS: Record<RedisRole, { write: Family[]; read: Family[] }> = {
  bot: { write: ['requests', 'audit', 'keys', 'seen', 'rateLimits', 'adapters', 'retention', 'reviews'], read: ['ca'] },
  worker: { write: ['requests', 'audit', 'ca', 'rateLimits', 'adapters', 'retention', 'reviews'], read: ['keys'] },
};

/** Commands: everything a data client uses, nothing that administers the server. */
const COMMANDS = [
  '+@all',
  '-@admin',
  '-@dangerous',
  // ioredis's ready check and BullMQ's version check read INFO; connection names help operators.
  '+info',
  '+client|setname',
  '+client|getname',
  '+client|id',
];

export function redisAclRules(prefix: string, role: RedisRole): string[] {
  const base = `{${prefix}}:`;
  const access = ACCESS[role];
  const keys = [
    ...access.write.flatMap((f) => FAMILIES[f].map((k) => `~${base}${k}`)),
    ...access.read.flatMap((f) => FAMILIES[f].map((k) => `%R~${base}${k}`)),
    // BullMQ's queues (certificates, timers) share the hash tag: `{prefix}-bull:…`.
    `~{${prefix}}-bull:*`,
  ];
  return ['resetkeys', 'resetchannels', ...keys, ...COMMANDS];
}
