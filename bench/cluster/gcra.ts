/**
 * The shared rate limiter's cost: GCRA decisions per second through RedisRateLimiter (one EVALSHA on the
 * Redis server's clock) against the in-process limiter, one at a time (a request waits for its decision)
 * and 64 at once (concurrent requests; Bun pipelines them on one connection). Starts its own redis-server
 * (or valkey-server) on a free loopback port unless REDIS_URL is set.
 *
 *   bun bench/cluster/gcra.ts [--seconds 3]
 */
import { parseArgs } from "node:util";
import { RedisLink } from "../../src/infra/redis/link.ts";
import { RedisRateLimiter } from "../../src/infra/redis/rate-limiter.ts";
import { systemClock } from "../../src/lib/clock.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { MemoryRateLimiter, type RateLimiter } from "../../src/lib/rate-limiter.ts";
import { startRedisServer } from "./redis.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "3" } } });
const seconds = Number(values.seconds);
const policy = { name: "ip", quota: 1_000_000, windowMs: 60_000 };

async function run(limiter: RateLimiter, parallel: number): Promise<number> {
  let done = 0;
  const until = performance.now() + seconds * 1000;
  const worker = async (w: number) => {
    for (let i = 0; performance.now() < until; i++) {
      await limiter.hit(`ip:10.0.${w}.${i % 250}`, policy);
      done++;
    }
  };
  await Promise.all(Array.from({ length: parallel }, (_, w) => worker(w)));
  return done / seconds;
}

const redis = await startRedisServer();
const log = createLogger("silent");
const link = new RedisLink({ url: redis.url, log, commandTimeoutMs: 1_000 });
await link.connect();
const memory = new MemoryRateLimiter(systemClock, 100_000);
const shared = new RedisRateLimiter(link, "bench:", memory);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(10);
console.log(`GCRA decisions/s over ${seconds} s each (${redis.version})`);
console.log("                     sequential   64 at once");
console.log(`in process           ${fmt(await run(memory, 1))}   ${fmt(await run(memory, 64))}`);
console.log(`Redis (EVALSHA)      ${fmt(await run(shared, 1))}   ${fmt(await run(shared, 64))}`);
link.close();
await redis.stop();
