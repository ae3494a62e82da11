import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { AppContext, type Integrations } from '../../src/app/app-context';
import { initCa } from '../../src/ca/ca-directory';
import { loadEnv } from '../../src/config/env';
import { silentLogger, type Logger } from '../../src/log/logger';
import { deleteByPattern, REDIS_URL } from './redis';

export interface TestApp {
  ctx: AppContext;
  dir: string;
  env: NodeJS.ProcessEnv;
  cleanup: () => Promise<void>;
}

/**
 * A real AppContext (Redis, BullMQ, store, audit, service) on a private Redis prefix, a temp
 * workflow directory written from `workflows`, and (unless `ca: false`) a fresh CA.
 */
export async function testApp(options: {
  workflows: unknown;
  ca?: boolean;
  env?: Record<string, string>;
  integrations?: Integrations;
  logger?: Logger;
}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'access-bot-'));
  mkdirSync(join(dir, 'workflows'));
  writeFileSync(join(dir, 'workflows', 'test.yaml'), stringify(withEmailDomains(options.workflows)));
  if (options.ca !== false) initCa(join(dir, 'ca'));
  const prefix = `t-app-${process.pid}-${randomBytes(4).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    REDIS_URL,
    REDIS_PREFIX: prefix,
    WORKFLOWS_DIR: join(dir, 'workflows'),
    CA_DIR: join(dir, 'ca'),
    LOG_LEVEL: 'silent',
    WORKER_STALLED_CHECK: '2s',
    RECONCILE_INTERVAL: '1h',
    ...options.env,
  };
  const ctx = await AppContext.create(loadEnv(env), options.logger ?? silentLogger(), options.integrations);
  return {
    ctx,
    dir,
    env,
    cleanup: async () => {
      await ctx.close();
      const redis = new Redis(REDIS_URL);
      await deleteByPattern(redis, `{${prefix}}*`);
      redis.disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Test people have example.com emails; login names come from them only when the domain is allowed,
 * so fixtures that do not say otherwise allow it (tests of the identity rules set their own).
 */
function withEmailDomains(workflows: unknown): unknown {
  if (workflows === null || typeof workflows !== 'object' || 'allowed_email_domains' in workflows) return workflows;
  return { ...workflows, allowed_email_domains: ['example.com'] };
}

/** Polls until `probe` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
