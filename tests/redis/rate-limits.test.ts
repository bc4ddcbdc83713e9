/**
 * Issue 13, item 4: one GCRA budget per client for the whole cluster, decided on the Redis server's clock;
 * and with Redis unreachable, each node limits on its own instead of failing or waiting.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisLink } from "../../src/infra/redis/link.ts";
import { RedisRateLimiter } from "../../src/infra/redis/rate-limiter.ts";
import { FakeClock } from "../../src/lib/clock.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { MemoryRateLimiter } from "../../src/lib/rate-limiter.ts";
import { clusterReady, type Nodes, startNodes } from "../helpers/nodes.ts";
import { skipWithoutRedis, startRedis, type TestRedis } from "../helpers/redis.ts";

const skip = skipWithoutRedis();
const log = createLogger("silent");
const policy = { name: "ip", quota: 10, windowMs: 60_000 };

describe.skipIf(skip)("shared rate limits", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  function limiter(prefix: string) {
    const link = new RedisLink({ url: redis.url, log, commandTimeoutMs: 1_000 });
    const fallback = new MemoryRateLimiter(new FakeClock(Date.now()), 1_000);
    return { link, limiter: new RedisRateLimiter(link, prefix, fallback) };
  }

  test("three limiters (nodes) share one budget: a rested key gets the quota, then refusals with a retry time", async () => {
    const nodes = [limiter("rl1:"), limiter("rl1:"), limiter("rl1:")];
    for (const n of nodes) await n.link.connect();
    const decisions = [];
    for (let i = 0; i < 15; i++) decisions.push(await nodes[i % 3]!.limiter.hit("ip:198.51.100.7", policy));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    expect(decisions.slice(0, 10).every((d) => d.allowed)).toBe(true);
    expect(decisions.slice(0, 10).map((d) => d.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    for (const d of decisions.slice(10)) {
      expect(d).toMatchObject({ allowed: false, remaining: 0 });
      // One request comes back every window / quota = 6 s; some of it has passed already.
      expect(d.retryAfterMs).toBeGreaterThan(0);
      expect(d.retryAfterMs).toBeLessThanOrEqual(6_000);
    }
    // Another key is untouched.
    expect((await nodes[0]!.limiter.hit("ip:198.51.100.8", policy)).remaining).toBe(9);
    for (const n of nodes) n.link.close();
  });

  test("15 requests from one address spread over A, B and C: 10 pass, 5 are 429 with Retry-After", async () => {
    let cluster: Nodes | undefined;
    try {
      cluster = await startNodes(["A", "B", "C"], redis.url, {
        RATE_LIMIT_ENABLED: "true",
        RATE_LIMIT_IP_PER_MINUTE: "10",
        REDIS_KEY_PREFIX: "rl2:",
      });
      await clusterReady(cluster.nodes);
      const statuses: number[] = [];
      for (let i = 0; i < 15; i++) {
        const res = await cluster.nodes[i % 3]!.request("GET", "/api/tags");
        statuses.push(res.status);
        if (res.status === 429) {
          expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
          expect(res.body.errors.rate[0]).toMatch(/^limit exceeded, retry in \d+ seconds?$/);
        } else expect(res.headers.get("ratelimit")).toMatch(/^"ip";r=\d+;t=\d+$/);
      }
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
      expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    } finally {
      await cluster?.stop();
    }
  });

  test("Redis unreachable: each node decides alone (in process), at once", async () => {
    const { link, limiter: l } = limiter("rl3:");
    await link.connect();
    await redis.kill();
    try {
      const first = await l.hit("ip:203.0.113.1", policy); // the call that finds Redis gone
      expect(first.allowed).toBe(true);
      expect(link.up).toBe(false);
      const rest = [];
      for (let i = 0; i < 10; i++) rest.push(l.hit("ip:203.0.113.1", policy));
      // Not a promise: decided in process without trying Redis.
      expect(rest.every((d) => !(d instanceof Promise))).toBe(true);
      const decisions = await Promise.all(rest);
      expect(decisions.filter((d) => d.allowed)).toHaveLength(9);
    } finally {
      link.close();
      await redis.start();
    }
  });
});
