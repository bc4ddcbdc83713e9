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
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startRedisServer } from "./redis.ts";

const { values } = parseArgs({
  options: { nodes: { type: "string", default: "3" }, writes: { type: "string", default: "300" } },
});
const nodeCount = Number(values.nodes);
const writes = Number(values.writes);
const root = resolve(import.meta.dir, "../..");
const work = mkdtempSync(join(tmpdir(), "quire-cluster-bench-"));
const database = process.env.DATABASE_URL?.startsWith("postgres") ? process.env.DATABASE_URL : undefined;

interface Proc {
  port: number;
  proc: Bun.Subprocess<"ignore", "pipe", "inherit">;
}

async function startNode(env: Record<string, string>): Promise<Proc> {
  const proc = Bun.spawn([process.execPath, join(root, "bench/cluster/node.ts")], {
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: "0",
      JWT_SECRET: "bench-cluster-secret-0123456789-abcdefghij",
      LOG_LEVEL: "warn",
      RATE_LIMIT_ENABLED: "false",
      PASSWORD_MEMORY_COST_KIB: "1024",
      PASSWORD_TIME_COST: "1",
      DATA_DIR: work,
      ...env,
    },
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!/listening (\d+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`a node exited before listening: ${text}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { port: Number(/listening (\d+)/.exec(text)![1]), proc };
}

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

async function stopAll(nodes: Proc[]): Promise<void> {
  for (const n of nodes) n.proc.kill("SIGTERM");
  await Promise.all(nodes.map((n) => n.proc.exited));
}

const redis = await startRedisServer();
console.log(
  `${writes} writes each; database ${database ? "Postgres" : "SQLite file shared by the processes"}; ${redis.version}; load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
try {
  const db = (name: string) => database ?? join(work, `${name}.db`);
  const single = [await startNode({ DATABASE_URL: db("single") })];
  await measure("1 node, no Redis", single);
  await stopAll(single);

  const one = [await startNode({ DATABASE_URL: db("one"), REDIS_URL: redis.url, REDIS_KEY_PREFIX: "b1:" })];
  await measure("1 node, Redis", one);
  await stopAll(one);

  const many: Proc[] = [];
  // One after another: the first migrates an empty database.
  for (let i = 0; i < nodeCount; i++)
    many.push(await startNode({ DATABASE_URL: db("many"), REDIS_URL: redis.url, REDIS_KEY_PREFIX: "b3:" }));
  await Bun.sleep(1_000); // every node a member
  await measure(`${nodeCount} nodes, Redis`, many);
  await stopAll(many);
} finally {
  await redis.stop();
  rmSync(work, { recursive: true, force: true });
}
