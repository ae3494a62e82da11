import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** A superuser connection to the test server (postgres, trust auth on 127.0.0.1; see .ci/run). */
export const PG_ADMIN_URL = process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(name: string, user = 'postgres'): string {
  const u = new URL(PG_ADMIN_URL);
  u.username = user;
  u.password = '';
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: Client) => Promise<T>, url = PG_ADMIN_URL): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A throwaway database for one test file; `drop` removes it (and any role made with `role`). */
export async function testDatabase(label: string): Promise<{
  name: string;
  url: string;
  sql: <R extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<R[]>;
  role: (prefix: string) => Promise<string>;
  drop: () => Promise<void>;
}> {
  const name = `ab_${label}_${process.pid}_${randomBytes(3).toString('hex')}`.toLowerCase();
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = databaseUrl(name);
  const roles: string[] = [];
  return {
    name,
    url,
    sql: async (text, params) => admin(async (c) => (await c.query(text, params)).rows, url),
    role: async (prefix) => {
      const role = `${prefix}_${randomBytes(3).toString('hex')}`;
      await admin((c) => c.query(`CREATE ROLE "${role}" LOGIN`));
      roles.push(role);
      return role;
    },
    drop: async () => {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
      for (const role of roles) await admin((c) => c.query(`DROP ROLE IF EXISTS "${role}"`));
    },
  };
}
