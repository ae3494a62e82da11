import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';

const INCLUDE = /^--\s*@include\s+"([^"]+)"\s*$/;

/**
 * Reads a `.lua` file and splices in its `-- @include "other.lua"` lines (paths relative to the
 * including file), each file once, so shared Lua (the SHA-256 of the audit chain) lives in one file.
 * The build copies `src/**\/*.lua` next to the compiled JavaScript.
 */
export function readLuaSource(file: string, seen = new Set<string>()): string {
  const absolute = path.resolve(file);
  if (seen.has(absolute)) return '';
  seen.add(absolute);
  const lines = readFileSync(absolute, 'utf8').split('\n');
  return lines
    .map((line) => {
      const include = INCLUDE.exec(line);
      return include ? readLuaSource(path.join(path.dirname(absolute), include[1]!), seen) : line;
    })
    .join('\n');
}

/** A Lua script run by EVALSHA, loaded with EVAL the first time a server has not seen it. */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** The script in `file` (a `.lua` path, usually `path.join(__dirname, 'lua', name)`), includes resolved. */
  static fromFile(file: string): LuaScript {
    return new LuaScript(readLuaSource(file));
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return redis.eval(this.source, keys.length, ...keys, ...args);
      throw err;
    }
  }
}
