import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const SHIPPED_WORKFLOWS_DIR = join(__dirname, '..', '..', 'workflows');

/** The shipped example workflow files, merged into one document (their names are unique across files). */
export function shippedWorkflows(): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const file of readdirSync(SHIPPED_WORKFLOWS_DIR).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const doc = parse(readFileSync(join(SHIPPED_WORKFLOWS_DIR, file), 'utf8')) as Record<string, unknown>;
    for (const [key, value] of Object.entries(doc)) {
      const before = merged[key];
      if (Array.isArray(value)) merged[key] = [...((before as unknown[]) ?? []), ...value];
      else if (value !== null && typeof value === 'object') merged[key] = { ...((before as object) ?? {}), ...value };
      else merged[key] = value;
    }
  }
  return merged;
}
