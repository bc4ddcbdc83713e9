/**
 * TtlCache: a bounded in-memory cache over lru-cache, for values that are costly to compute and cheap to
 * hold. Bounded three ways: entries (`max`), bytes (`maxBytes`, measured by `sizeOf`) and age (`ttlMs`); the
 * least recently used entry goes first. `ttlMs: 0` turns the cache off (every read loads), which is how a
 * benchmark measures what the cache buys.
 *
 * Loading, and why there is no stampede and no stale entry:
 * - `load(key, loader)` answers a hit synchronously (no promise on the hot path) and a miss through
 *   lru-cache's `fetch`: concurrent misses share one in-flight load. A `delete` or `clear` while a load is in
 *   flight aborts the store but not the load (`ignoreFetchAbort`): callers already waiting get the value they
 *   asked for, and the cache never keeps a value that was read before the write that invalidated it.
 *
 * Trust: a cluster node that may have missed an invalidation (it lost its connection to the others) must not
 * answer from memory. `trusted()`, when given, is asked on every access: while it is false the cache is
 * bypassed (every read loads, nothing is stored), and whoever turns it back on clears the cache first.
 *
 * A loader that returns `undefined` ("not found") caches nothing. Counters (hits, misses, coalesced loads,
 * evictions) feed metrics through `stats()`. Framework-free: lib/ never imports app code.
 */
import { LRUCache } from "lru-cache";

export interface TtlCacheOptions<K, V> {
  /** Name in `stats()` (and so in metrics labels). */
  name: string;
  /** Most entries kept. */
  max: number;
  /** Most bytes kept, as measured by `sizeOf`. */
  maxBytes: number;
  /** Age after which an entry is reloaded; 0 disables the cache. */
  ttlMs: number;
  /** Approximate bytes an entry holds (a positive number; fractions are rounded up). */
  sizeOf: (value: V, key: K) => number;
  /** Milliseconds clock for expiry (the app's clock, so tests can move time). Default: performance.now. */
  now?: () => number;
  /** False while entries may be stale for reasons the cache cannot see (see the header); default: always. */
  trusted?: () => boolean;
}

export interface CacheStats {
  name: string;
  hits: number;
  misses: number;
  /** Asynchronous misses that joined a load already in flight instead of starting their own. */
  coalesced: number;
  /** Entries dropped to stay within `max`/`maxBytes` (not counting invalidations and expiry). */
  evictions: number;
  entries: number;
  bytes: number;
  maxBytes: number;
}

type AsyncLoader<V> = () => Promise<V | undefined>;

export class TtlCache<K extends {}, V extends {}> {
  readonly name: string;
  readonly enabled: boolean;
  #store: LRUCache<K, V, AsyncLoader<V>> | undefined;
  readonly #create: () => LRUCache<K, V, AsyncLoader<V>>;
  readonly #maxBytes: number;
  readonly #trusted: (() => boolean) | undefined;
  #hits = 0;
  #misses = 0;
  #coalesced = 0;
  #evictions = 0;

  constructor(options: TtlCacheOptions<K, V>) {
    this.name = options.name;
    this.enabled = options.ttlMs > 0 && options.max > 0 && options.maxBytes > 0;
    this.#maxBytes = options.maxBytes;
    this.#trusted = options.trusted;
    // Built at first use: lru-cache allocates its bookkeeping for `max` entries up front (~8 ms for 5,000
    // slots on a busy 2-core box), which a dozen caches paid at every start, used or not.
    this.#create = () =>
      new LRUCache<K, V, AsyncLoader<V>>({
        max: Math.max(1, options.max),
        maxSize: Math.max(1, options.maxBytes),
        // One entry may take at most an eighth of the budget, so a huge page cannot flush everything else.
        maxEntrySize: Math.max(1, Math.floor(options.maxBytes / 8)),
        sizeCalculation: (value, key) => Math.max(1, Math.ceil(options.sizeOf(value, key))),
        ttl: Math.max(1, options.ttlMs),
        // Expired entries are dropped when next read; no timer per entry, and no timer caching the time.
        ttlAutopurge: false,
        ttlResolution: 0,
        ...(options.now && { perf: { now: options.now } }),
        fetchMethod: (_key, _stale, { context }) => context(),
        ignoreFetchAbort: true,
        dispose: (_value, _key, reason) => {
          if (reason === "evict") this.#evictions++;
        },
      });
  }

  get #lru(): LRUCache<K, V, AsyncLoader<V>> {
    this.#store ??= this.#create();
    return this.#store;
  }

  /** Enabled, and trusted right now. */
  #usable(): boolean {
    return this.enabled && (this.#trusted === undefined || this.#trusted());
  }

  /** The cached value, counting a hit or a miss. */
  get(key: K): V | undefined {
    const value = this.#usable() ? this.#lru.get(key) : undefined;
    if (value === undefined) this.#misses++;
    else this.#hits++;
    return value;
  }

  /** The cached value without counting or refreshing its recency (for tests and invalidation logic). */
  peek(key: K): V | undefined {
    return this.#store?.peek(key);
  }

  set(key: K, value: V): void {
    if (this.#usable()) this.#lru.set(key, value);
  }

  /**
   * The cached value (synchronously, on a hit), or a promise of the loader's, stored unless undefined.
   * Single-flight: see the header.
   */
  load(key: K, loader: AsyncLoader<V>): V | Promise<V | undefined> {
    if (this.#usable()) {
      const cached = this.#lru.get(key);
      if (cached !== undefined) {
        this.#hits++;
        return cached;
      }
    }
    return this.fetch(key, loader);
  }

  /** Like `load`, always through a promise: concurrent misses on one key share a single load. */
  async fetch(key: K, loader: AsyncLoader<V>): Promise<V | undefined> {
    if (!this.#usable()) {
      this.#misses++;
      return loader();
    }
    const status: LRUCache.Status<K, V, AsyncLoader<V>> = {};
    const value = await this.#lru.fetch(key, { context: loader, status });
    if (status.fetch === "hit") this.#hits++;
    else if (status.fetch === "inflight") this.#coalesced++;
    else this.#misses++;
    return value;
  }

  delete(key: K): boolean {
    return this.#store?.delete(key) ?? false;
  }

  /** Delete every entry the predicate picks; O(entries), for rare, broad invalidations. */
  deleteWhere(pick: (value: V, key: K) => boolean): number {
    const store = this.#store;
    if (!store) return 0;
    const doomed: K[] = [];
    for (const [key, value] of store.entries()) if (pick(value, key)) doomed.push(key);
    for (const key of doomed) store.delete(key);
    return doomed.length;
  }

  /**
   * Drop every expired entry now. Expired entries are otherwise dropped only when read again, so after a
   * burst of traffic a cache would hold its stale bodies until the next one; returns whether any went.
   */
  purgeStale(): boolean {
    return this.#store?.purgeStale() ?? false;
  }

  clear(): void {
    // lru-cache's clear() walks its whole preallocated storage; skip it when there is nothing to drop.
    if (this.#store && this.#store.size > 0) this.#store.clear();
  }

  get size(): number {
    return this.#store?.size ?? 0;
  }

  stats(): CacheStats {
    return {
      name: this.name,
      hits: this.#hits,
      misses: this.#misses,
      coalesced: this.#coalesced,
      evictions: this.#evictions,
      entries: this.#store?.size ?? 0,
      bytes: this.#store?.calculatedSize ?? 0,
      maxBytes: this.#maxBytes,
    };
  }
}
