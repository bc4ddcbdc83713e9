/**
 * What response compression costs and saves, measured in one run: in-process `app.handle` requests against a
 * seeded database (2,000 articles), each workload without Accept-Encoding, with gzip and with brotli, the
 * variants interleaved in short slices (median of the slices). Prints the CPU time per request (process CPU,
 * so less sensitive than wall time to other processes on a shared machine), the ratio to identity, and bytes
 * per answer. The small body (under the 1 KB threshold) shows the cost of deciding not to compress.
 *
 * Usage: bun bench/compression.ts   (~30 s; figures are indicative on a shared machine, ratios are what matter)
 */
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { createContext } from "../src/context.ts";
import type { SqliteStore } from "../src/infra/sqlite/store.ts";
import { createLogger } from "../src/lib/logger.ts";
import { seedDatabase } from "./seed.ts";

const config = loadConfig({
  NODE_ENV: "test",
  DATABASE_URL: ":memory:",
  JWT_SECRET: "bench-secret-0123456789-abcdefghijklmnop",
  LOG_LEVEL: "silent",
  RATE_LIMIT_ENABLED: "false",
});
const ctx = await createContext(config, createLogger("silent"));
seedDatabase((ctx.store as SqliteStore).connections.writer, { users: 200, articles: 2000 });
const app = createApp(ctx, { peerAddress: () => "192.0.2.1" });

const workloads = [
  { title: "list 20 + total (GET /api/articles)", path: "/api/articles" },
  { title: "article by slug", path: "/api/articles/article-7" },
  { title: "small body (GET /api/tags)", path: "/api/tags?limit=5" },
];
const variants = [
  { name: "identity", headers: {} as Record<string, string> },
  { name: "gzip", headers: { "accept-encoding": "gzip" } },
  { name: "br", headers: { "accept-encoding": "br" } },
];
const SLICES = 21;
const REQUESTS = 300;

/** `n` requests; returns CPU µs per request (user + system) and the size of the last answer on the wire. */
async function run(path: string, headers: Record<string, string>, n: number) {
  let bytes = 0;
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const res = await app.handle(new Request(`http://localhost${path}`, { headers }));
    bytes = (await res.arrayBuffer()).byteLength;
  }
  const used = process.cpuUsage(start);
  return { us: (used.user + used.system) / n, bytes };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });

const rows: string[] = [];
for (const w of workloads) {
  for (const v of variants) await run(w.path, v.headers, 300); // warm-up: JIT, caches
  const cpu = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const bytes = new Map<string, number>();
  for (let slice = 0; slice < SLICES; slice++) {
    const order = slice % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const r = await run(w.path, v.headers, REQUESTS);
      cpu.get(v.name)!.push(r.us);
      bytes.set(v.name, r.bytes);
    }
  }
  const base = median(cpu.get("identity")!);
  const cell = (name: string) => {
    const us = median(cpu.get(name)!);
    return `${fmt(us)} (${(us / base).toFixed(2)})`;
  };
  rows.push(
    `| ${w.title} | ${fmt(base)} | ${cell("gzip")} | ${cell("br")} | ${fmt(bytes.get("identity")!)} / ${fmt(bytes.get("gzip")!)} / ${fmt(bytes.get("br")!)} |`,
  );
}

console.log(`
In-process app.handle, CPU µs per request: median of ${SLICES} interleaved slices of ${REQUESTS} requests per variant, Bun ${Bun.version}.

| workload | identity CPU µs/req | gzip (× identity) | br (× identity) | bytes identity / gzip / br |
| --- | ---: | ---: | ---: | ---: |
${rows.join("\n")}`);
