/** Redis stream ids (`<ms>-<n>`) compared and stepped as numbers. */
export function parseStreamId(id: string): [bigint, bigint] {
  const [ms, n] = id.split('-');
  return [BigInt(ms ?? 0), BigInt(n ?? 0)];
}

export function compareStreamIds(a: string, b: string): number {
  const [am, an] = parseStreamId(a);
  const [bm, bn] = parseStreamId(b);
  return am !== bm ? (am < bm ? -1 : 1) : an === bn ? 0 : an < bn ? -1 : 1;
}

export function nextStreamId(id: string): string {
  const [ms, n] = parseStreamId(id);
  return `${ms}-${n + 1n}`;
}
