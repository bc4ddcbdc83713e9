/**
 * Rate limits shared by every node: one GCRA state per key in Redis, decided by one script on the Redis
 * server's clock (scripts.ts GCRA), so a client has one budget for the whole cluster however the load
 * balancer spreads its requests, and the nodes' clocks need not agree.
 *
 * Redis unreachable (or slower than the command timeout): this node decides alone, with its in-process
 * limiter, so requests are still limited (per node, not per cluster) and never wait for Redis to come back.
 */
import type { Decision, Policy, RateLimiter } from "../../lib/rate-limiter.ts";
import type { RedisLink } from "./link.ts";
import { GCRA } from "./scripts.ts";

export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly link: RedisLink,
    private readonly prefix: string,
    private readonly fallback: RateLimiter,
  ) {}

  hit(key: string, policy: Policy): Decision | Promise<Decision> {
    if (!this.link.up) return this.fallback.hit(key, policy);
    const interval = policy.windowMs / policy.quota;
    return this.link
      .eval<string[]>(GCRA, [`${this.prefix}rl:${key}`], [String(interval), String(policy.windowMs)])
      .then(
        ([allowed, remaining, resetMs, retryAfterMs]) => ({
          allowed: allowed === "1",
          remaining: Number(remaining),
          resetMs: Number(resetMs),
          retryAfterMs: Number(retryAfterMs),
        }),
        () => this.fallback.hit(key, policy),
      );
  }
}
