/**
 * Cluster fan-out and write cost: N node processes (bench/cluster/node.ts) on one database and one Redis;
 * a writer POSTs articles to node A one at a time, WebSockets on A and on the last node are subscribed to
 * `articles`. Prints, over K writes:
 * - write latency on A (the answer waits for every other node's acknowledgement), p50/p99;
 * - delivery latency, POST sent on A → event received on the socket of A / of the last node, p50/p99;
 * for: one node without Redis (the in-process default), one node with Redis, and N nodes.
 *
 *   bun bench/cluster/fanout.ts [--nodes 3] [--writes 300]
 *
 * Database: DATABASE_URL if it is a postgres:// URL, else a temporary SQLite file shared by the processes
 * (bench only: SQLite's write lock serialises them, `quire serve` refuses to share a file). Redis: REDIS_URL,
 * else a throwaway redis-server. Timing lives here, never in tests.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type Proc, startNode, stopAll } from "./nodes.ts";
import { startRedisServer } from "./redis.ts";

const { values } = parseArgs({
  options: { nodes: { type: "string", default: "3" }, writes: { type: "string", default: "300" } },
});
const nodeCount = Number(values.nodes);
const writes = Number(values.writes);
const work = mkdtempSync(join(tmpdir(), "quire-cluster-bench-"));
const database = process.env.DATABASE_URL?.startsWith("postgres") ? process.env.DATABASE_URL : undefined;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (x: number) => `${x.toFixed(2).padStart(7)} ms`;

async function measure(label: string, nodes: Proc[]): Promise<void> {
  const [a] = nodes;
  const last = nodes.at(-1)!;
  const http = (p: Proc) => `http://127.0.0.1:${p.port}`;
  const suffix = `${label.replace(/\W+/g, "")}${Date.now()}`;
  const reg = await fetch(`${http(a!)}/api/users`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      user: { username: `w${suffix}`, email: `w${suffix}@example.com`, password: "bench-password" },
    }),
  });
  const token = ((await reg.json()) as { user: { token: string } }).user.token;
  const arrivals = new Map<string, Map<string, number>>(); // socket → title → time
  const sockets = await Promise.all(
    [...new Set([a!, last])].map(
      (p, i) =>
        new Promise<{ name: string; ws: WebSocket }>((done) => {
          const name = i === 0 ? "A" : "last";
          const seen = new Map<string, number>();
          arrivals.set(name, seen);
          const ws = new WebSocket(`ws://127.0.0.1:${p.port}/api/realtime`);
          ws.onopen = () => ws.send(JSON.stringify({ op: "subscribe", topic: "articles" }));
          ws.onmessage = (e) => {
            const m = JSON.parse(String(e.data));
            if (m.type === "subscribed") done({ name, ws });
            if (m.type === "event") seen.set(m.data.article.title, performance.now());
          };
        }),
    ),
  );
  const writeMs: number[] = [];
  const delivery = new Map<string, number[]>([...arrivals.keys()].map((k) => [k, []]));
  for (let i = 0; i < writes; i++) {
    const title = `${suffix} ${i}`;
    const t0 = performance.now();
    const res = await fetch(`${http(a!)}/api/articles`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Token ${token}` },
      body: JSON.stringify({ article: { title, description: "d", body: "b" } }),
    });
    await res.arrayBuffer();
    writeMs.push(performance.now() - t0);
    for (const [name, seen] of arrivals) {
      while (!seen.has(title)) await Bun.sleep(0);
      delivery.get(name)!.push(seen.get(title)! - t0);
    }
  }
  for (const s of sockets) s.ws.close();
  console.log(`${label}`);
  console.log(`  write on A (answered)         p50 ${ms(pct(writeMs, 50))}   p99 ${ms(pct(writeMs, 99))}`);
  for (const [name, xs] of delivery) {
    const where = name === "A" ? "A" : `node ${nodes.length}`;
    console.log(`  POST on A → socket on ${where.padEnd(7)} p50 ${ms(pct(xs, 50))}   p99 ${ms(pct(xs, 99))}`);
  }
}

const redis = await startRedisServer();
console.log(
  `${writes} writes each; database ${database ? "Postgres" : "SQLite file shared by the processes"}; ${redis.version}; load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
try {
  const db = (name: string) => database ?? join(work, `${name}.db`);
  const single = [await startNode({ DATABASE_URL: db("single"), DATA_DIR: work })];
  await measure("1 node, no Redis", single);
  await stopAll(single);

  const one = [
    await startNode({
      DATABASE_URL: db("one"),
      DATA_DIR: work,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: "b1:",
    }),
  ];
  await measure("1 node, Redis", one);
  await stopAll(one);

  const many: Proc[] = [];
  // One after another: the first migrates an empty database.
  for (let i = 0; i < nodeCount; i++)
    many.push(
      await startNode({
        DATABASE_URL: db("many"),
        DATA_DIR: work,
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: "b3:",
      }),
    );
  await Bun.sleep(1_000); // every node a member
  await measure(`${nodeCount} nodes, Redis`, many);
  await stopAll(many);
} finally {
  await redis.stop();
  rmSync(work, { recursive: true, force: true });
}
