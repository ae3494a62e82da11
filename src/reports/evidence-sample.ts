import { createHash } from 'node:crypto';

/**
 * Up to `n` ids chosen by hashing each with `seed` (the chain's head hash): the same log always
 * gives the same sample, and nobody picks which requests an auditor sees.
 */
export function sampleIds(ids: Iterable<string>, seed: string, n = 5): string[] {
  return [...new Set(ids)]
    .map((id) => ({ id, key: createHash('sha256').update(`${seed}\0${id}`).digest('hex') }))
    .sort((a, b) => (a.key < b.key ? -1 : 1))
    .slice(0, n)
    .map((x) => x.id);
}
