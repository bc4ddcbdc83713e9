/**
 * The rate-limit store: one GCRA decision per request and key (src/lib/gcra.ts). An interface, so that a
 * cluster shares one budget per client (a script on a shared server, using that server's clock), while a
 * single process keeps its state in memory.
 *
 * The in-process implementation keeps each key's theoretical arrival time in a SegmentedLru of `maxKeys`
 * entries: bounded memory, and a flood of fresh keys cannot evict the state of keys that keep coming back
 * (an attacker's own included).
 */
import type { Clock } from "./clock.ts";
import { type Decision, Gcra, type Policy } from "./gcra.ts";
import { SegmentedLru } from "./segmented-lru.ts";

export type { Decision, Policy };

export interface RateLimiter {
  /** Count one request against `key` under `policy` (refused requests are not counted). */
  hit(key: string, policy: Policy): Decision | Promise<Decision>;
}

/** Share of the store for keys seen once; the rest protects keys seen again (the usual SLRU split). */
const PROBATION_SHARE = 0.2;

export class MemoryRateLimiter implements RateLimiter {
  readonly #gcra: Gcra;
  readonly store: SegmentedLru<number>;

  constructor(clock: Clock, maxKeys: number) {
    this.store = new SegmentedLru<number>({
      probationMax: Math.ceil(maxKeys * PROBATION_SHARE),
      protectedMax: Math.floor(maxKeys * (1 - PROBATION_SHARE)),
    });
    this.#gcra = new Gcra(this.store, clock);
  }

  hit(key: string, policy: Policy): Decision {
    return this.#gcra.hit(key, policy);
  }
}
