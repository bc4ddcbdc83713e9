/**
 * A bounded key → value store that a flood of one-off keys cannot flush: a segmented LRU built from two
 * lru-cache instances.
 *
 * - New keys enter the small *probation* segment. A flood of distinct keys (every spoofable IPv6 /64, every
 *   guessed email) only churns probation, evicting other one-off keys.
 * - A key seen again while still in probation is promoted to the large *protected* segment. Real clients and,
 *   importantly, attackers who keep hitting one key (a brute-forcer's own rate-limit state) live there.
 * - When protected is full its least recently used key is demoted back to probation rather than dropped, so
 *   evicting a protected key costs an attacker `protectedMax` keys each seen at least twice, and then
 *   `probationMax` more fresh keys: at least 2·protectedMax + probationMax requests from distinct keys, each
 *   of which is itself rate-limited.
 *
 * Memory is bounded by `probationMax + protectedMax` entries whatever the traffic. Values are plain data;
 * staleness is the caller's business (GCRA treats an old timestamp exactly like an absent one).
 */
import { LRUCache } from "lru-cache";

export interface SegmentedLruOptions {
  /** Entries for keys seen once. */
  probationMax: number;
  /** Entries for keys seen at least twice. */
  protectedMax: number;
}

export class SegmentedLru<V extends {}> {
  readonly #options: SegmentedLruOptions;
  #segments: { probation: LRUCache<string, V>; protected: LRUCache<string, V> } | undefined;

  constructor(options: SegmentedLruOptions) {
    this.#options = options;
  }

  /**
   * Built at first use: lru-cache allocates its bookkeeping for `max` entries up front (~20 ms and a few MB
   * for the rate limiter's 100,000), which a server with rate limiting off would pay for nothing.
   */
  #segmentsNow() {
    if (!this.#segments) {
      const probation = new LRUCache<string, V>({ max: Math.max(1, this.#options.probationMax) });
      const hot = new LRUCache<string, V>({
        max: Math.max(1, this.#options.protectedMax),
        // Demote instead of dropping: a protected key gets a second life at the head of probation.
        dispose: (value, key, reason) => {
          if (reason === "evict") probation.set(key, value);
        },
      });
      this.#segments = { probation, protected: hot };
    }
    return this.#segments;
  }

  get #probation(): LRUCache<string, V> {
    return this.#segmentsNow().probation;
  }

  get #protected(): LRUCache<string, V> {
    return this.#segmentsNow().protected;
  }

  get(key: string): V | undefined {
    const hot = this.#protected.get(key);
    if (hot !== undefined) return hot;
    const seen = this.#probation.get(key);
    if (seen === undefined) return undefined;
    // Second sighting: promote. Delete first so the key is never in both segments.
    this.#probation.delete(key);
    this.#protected.set(key, seen);
    return seen;
  }

  set(key: string, value: V): void {
    if (this.#protected.has(key)) this.#protected.set(key, value);
    else this.#probation.set(key, value);
  }

  delete(key: string): void {
    this.#protected.delete(key);
    this.#probation.delete(key);
  }

  /** Where a key lives, for tests and metrics. */
  segmentOf(key: string): "protected" | "probation" | undefined {
    if (this.#protected.has(key)) return "protected";
    if (this.#probation.has(key)) return "probation";
    return undefined;
  }

  get size(): number {
    return this.#segments ? this.#segments.protected.size + this.#segments.probation.size : 0;
  }

  clear(): void {
    this.#segments?.protected.clear();
    this.#segments?.probation.clear();
  }
}
