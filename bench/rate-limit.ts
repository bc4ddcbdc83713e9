/**
 * Rate-limit cost, side by side with baselines measured in the same run:
 * - limiter: GCRA over the SegmentedLru (hot keys, and a flood of distinct keys) vs a bare Map get/set;
 * - HTTP: in-process GET /api/articles with RATE_LIMIT_ENABLED=false vs true (same app code otherwise).
 * Usage: bun bench/rate-limit.ts   (short: ~5 s; figures are indicative on a shared machine)
 */
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { createContext } from "../src/context.ts";
import { systemClock } from "../src/lib/clock.ts";
import { Gcra, type Policy } from "../src/lib/gcra.ts";
import { createLogger } from "../src/lib/logger.ts";
import { SegmentedLru } from "../src/lib/segmented-lru.ts";

const N = 1_000_000;
const policy: Policy = { name: "ip", quota: 600, windowMs: 60_000 };

function time(label: string, n: number, fn: (i: number) => void) {
  const start = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  const ms = performance.now() - start;
  console.log(
    `${label.padEnd(44)} ${((n / ms) * 1000).toFixed(0).padStart(12)} ops/s  ${((ms * 1e6) / n).toFixed(0).padStart(6)} ns/op`,
  );
}

const map = new Map<string, number>();
time("baseline: Map get+set, 1 000 hot keys", N, (i) => {
  const k = `ip:${i % 1000}`;
  map.set(k, (map.get(k) ?? 0) + 1);
});
const gcra = new Gcra(new SegmentedLru<number>({ probationMax: 20_000, protectedMax: 80_000 }), systemClock);
time("GCRA + SegmentedLru, 1 000 hot keys", N, (i) => gcra.hit(`ip:${i % 1000}`, policy));
time("GCRA + SegmentedLru, flood of distinct keys", N, (i) => gcra.hit(`flood:${i}`, policy));

async function http(enabled: boolean, n: number) {
  const config = loadConfig({
    NODE_ENV: "test",
    DATABASE_URL: ":memory:",
    JWT_SECRET: "bench-secret-0123456789-abcdefghijklmnop",
    LOG_LEVEL: "silent",
    RATE_LIMIT_ENABLED: String(enabled),
    RATE_LIMIT_IP_PER_MINUTE: "1000000",
  });
  const app = createApp(await createContext(config, createLogger("silent")), {
    peerAddress: () => "192.0.2.1",
  });
  for (let i = 0; i < 500; i++) await app.handle(new Request("http://localhost/api/articles"));
  const start = performance.now();
  for (let i = 0; i < n; i++) await app.handle(new Request("http://localhost/api/articles"));
  const ms = performance.now() - start;
  console.log(
    `${`HTTP GET /api/articles, rate limit ${enabled ? "on" : "off"}`.padEnd(44)} ${((n / ms) * 1000).toFixed(0).padStart(12)} req/s  ${((ms * 1000) / n).toFixed(1).padStart(6)} µs/req`,
  );
}
await http(false, 20_000);
await http(true, 20_000);
