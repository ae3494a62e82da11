/**
 * A small in-process cache of lookups with a time to live. Concurrent misses for one key share a
 * single load; a failed load is not cached. Bounded: beyond `maxEntries` the oldest entries go.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { promise: Promise<V>; loadedAt: number | undefined }>();

  constructor(
    private readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
    private readonly maxEntries = 10_000,
  ) {}

  get(key: K, load: () => Promise<V>): Promise<V> {
    const entry = this.entries.get(key);
    if (entry && (entry.loadedAt === undefined || this.clock() - entry.loadedAt < this.ttlMs)) return entry.promise;
    const fresh = { promise: load(), loadedAt: undefined as number | undefined };
    this.entries.delete(key);
    this.entries.set(key, fresh);
    fresh.promise.then(
      () => {
        fresh.loadedAt = this.clock();
      },
      () => {
        if (this.entries.get(key) === fresh) this.entries.delete(key);
      },
    );
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    return fresh.promise;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
