/**
 * GCRA (the generic cell rate algorithm): a rate limiter that keeps one number per key, the theoretical
 * arrival time (TAT) at which the key's bucket would be empty again. A policy "q requests per w" lets a
 * fresh key send q requests at once, then one every w/q; there is no window edge to burst across, unlike
 * fixed windows, and no per-request timestamps to store, unlike sliding logs.
 *
 * Why hand-written: the npm limiters either implement other algorithms (fixed windows, token buckets with
 * timers) or bring their own unbounded stores; GCRA itself is a dozen lines, and the store that matters for
 * safety (bounded, flood-resistant) is SegmentedLru.
 */
import type { Clock } from "./clock.ts";

export interface Policy {
  /** Identifier reported in the RateLimit / RateLimit-Policy headers. */
  readonly name: string;
  /** Requests allowed in a window (and at once, from a rested key). */
  readonly quota: number;
  readonly windowMs: number;
}

export interface Decision {
  readonly allowed: boolean;
  /** Requests that could still be made right now. */
  readonly remaining: number;
  /** Milliseconds until the key is fully rested (all of `quota` available again). */
  readonly resetMs: number;
  /** When refused: milliseconds until one request would be allowed. 0 when allowed. */
  readonly retryAfterMs: number;
}

export interface TatStore {
  get(key: string): number | undefined;
  set(key: string, tat: number): void;
}

// Floating-point slack so that, say, 10 requests of 6 000 ms in 60 000 ms count as exactly 10.
const EPSILON = 1e-6;

export class Gcra {
  constructor(
    private readonly store: TatStore,
    private readonly clock: Clock,
  ) {}

  /** Count one request against `key` under `policy`; refused requests are not counted. */
  hit(key: string, policy: Policy): Decision {
    return this.#decide(key, policy, true);
  }

  /** What `hit` would answer, without counting anything. */
  peek(key: string, policy: Policy): Decision {
    return this.#decide(key, policy, false);
  }

  #decide(key: string, policy: Policy, consume: boolean): Decision {
    const now = this.clock.now();
    const interval = policy.windowMs / policy.quota;
    const tat = Math.max(this.store.get(key) ?? now, now);
    const next = tat + interval;
    const allowAt = next - policy.windowMs;
    if (allowAt - now > EPSILON) {
      return { allowed: false, remaining: 0, resetMs: tat - now, retryAfterMs: allowAt - now };
    }
    if (consume) this.store.set(key, next);
    const remaining = Math.floor((now + policy.windowMs - next) / interval + EPSILON);
    return { allowed: true, remaining: Math.max(0, remaining), resetMs: next - now, retryAfterMs: 0 };
  }
}
