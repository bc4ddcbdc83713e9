/**
 * The mixed workload on 1 node vs N nodes: the same closed-loop load (C clients, each sending its next request
 * when the last is answered), spread round-robin over the nodes, for D seconds per configuration:
 *   45% GET /api/articles?limit=20   20% GET /api/articles/:slug   10% GET /api/profiles/:name (signed in)
 *   10% GET /api/articles/feed       10% favorite/unfavorite        5% POST a comment
 * Prints requests/s and p50/p99 for reads and for writes, for: 1 node without Redis, 1 node with Redis, N
 * nodes with Redis. On a machine with fewer cores than nodes (this one has 2, shared) N nodes cannot be
 * faster: they add processes competing for the same cores plus a Redis round trip and acknowledgements per
 * write. The figure is what a cluster costs per request, not what it gains.
 *
 *   DATABASE_URL=postgres://… bun bench/cluster/mixed.ts [--nodes 3] [--seconds 10] [--clients 32]
 *
 * Database: DATABASE_URL (a Postgres URL: the cluster's engine), else a temporary SQLite file shared by the
 * processes (bench only). Redis: REDIS_URL, else a throwaway redis-server. Timing lives here, never in tests.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type Proc, startNode, stopAll } from "./nodes.ts";
import { startRedisServer } from "./redis.ts";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "3" },
    seconds: { type: "string", default: "10" },
    clients: { type: "string", default: "32" },
  },
});
const nodeCount = Number(values.nodes);
const seconds = Number(values.seconds);
const clients = Number(values.clients);
const work = mkdtempSync(join(tmpdir(), "quire-cluster-mixed-"));
const database = process.env.DATABASE_URL?.startsWith("postgres") ? process.env.DATABASE_URL : undefined;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

interface Seeded {
  users: { username: string; token: string }[];
  slugs: string[];
}

async function call(base: string, method: string, path: string, body?: unknown, token?: string) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Token ${token}`;
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text };
}

/** 20 authors with 5 articles each, following one another in a ring. */
async function seed(base: string, tag: string): Promise<Seeded> {
  const users: Seeded["users"] = [];
  const slugs: string[] = [];
  for (let i = 0; i < 20; i++) {
    const username = `${tag}u${i}`;
    const res = await call(base, "POST", "/api/users", {
      user: { username, email: `${username}@example.com`, password: "bench-password" },
    });
    users.push({ username, token: JSON.parse(res.text).user.token });
  }
  for (const [i, u] of users.entries()) {
    await call(
      base,
      "POST",
      `/api/profiles/${users[(i + 1) % users.length]!.username}/follow`,
      undefined,
      u.token,
    );
    for (let j = 0; j < 5; j++) {
      const res = await call(
        base,
        "POST",
        "/api/articles",
        {
          article: {
            title: `${tag} ${i} ${j}`,
            description: "d",
            body: "b".repeat(2000),
            tagList: ["bench"],
          },
        },
        u.token,
      );
      slugs.push(JSON.parse(res.text).article.slug);
    }
  }
  return { users, slugs };
}

async function load(label: string, nodes: Proc[], tag: string): Promise<void> {
  const bases = nodes.map((n) => `http://127.0.0.1:${n.port}`);
  const data = await seed(bases[0]!, tag);
  const reads: number[] = [];
  const writes: number[] = [];
  let errors = 0;
  let turn = 0;
  const deadline = performance.now() + seconds * 1000;
  const client = async (id: number) => {
    const me = data.users[id % data.users.length]!;
    const favorited = new Set<string>();
    let n = 0;
    while (performance.now() < deadline) {
      const base = bases[turn++ % bases.length]!;
      const slug = data.slugs[(id * 7 + n++) % data.slugs.length]!;
      const roll = Math.random() * 100;
      const t0 = performance.now();
      let res: { status: number };
      let write = false;
      if (roll < 45) res = await call(base, "GET", "/api/articles?limit=20");
      else if (roll < 65) res = await call(base, "GET", `/api/articles/${slug}`);
      else if (roll < 75)
        res = await call(
          base,
          "GET",
          `/api/profiles/${data.users[n % data.users.length]!.username}`,
          undefined,
          me.token,
        );
      else if (roll < 85) res = await call(base, "GET", "/api/articles/feed", undefined, me.token);
      else if (roll < 95) {
        write = true;
        const on = favorited.has(slug);
        res = await call(base, on ? "DELETE" : "POST", `/api/articles/${slug}/favorite`, undefined, me.token);
        if (on) favorited.delete(slug);
        else favorited.add(slug);
      } else {
        write = true;
        res = await call(
          base,
          "POST",
          `/api/articles/${slug}/comments`,
          { comment: { body: "bench" } },
          me.token,
        );
      }
      (write ? writes : reads).push(performance.now() - t0);
      if (res.status >= 400) errors++;
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  const elapsed = (performance.now() - began) / 1000;
  const f = (x: number) => `${x.toFixed(1).padStart(6)} ms`;
  console.log(
    `${label.padEnd(20)} ${String(Math.round((reads.length + writes.length) / elapsed)).padStart(6)} req/s` +
      `   reads p50 ${f(pct(reads, 50))} p99 ${f(pct(reads, 99))}` +
      `   writes p50 ${f(pct(writes, 50))} p99 ${f(pct(writes, 99))}   errors ${errors}`,
  );
}

const redis = await startRedisServer();
console.log(
  `${clients} clients, ${seconds} s each; ${database ? "Postgres" : "SQLite file shared by the processes"}; ` +
    `${redis.version}; ${cpus().length} cores; load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
);
try {
  const db = (name: string) => database ?? join(work, `${name}.db`);
  const base = { DATA_DIR: work, LOG_LEVEL: "error" };
  const single = [await startNode({ ...base, DATABASE_URL: db("single") })];
  await load("1 node, no Redis", single, `s${Date.now().toString(36)}`);
  await stopAll(single);

  const one = [
    await startNode({ ...base, DATABASE_URL: db("one"), REDIS_URL: redis.url, REDIS_KEY_PREFIX: "m1:" }),
  ];
  await load("1 node, Redis", one, `o${Date.now().toString(36)}`);
  await stopAll(one);

  const many: Proc[] = [];
  for (let i = 0; i < nodeCount; i++)
    many.push(
      await startNode({ ...base, DATABASE_URL: db("many"), REDIS_URL: redis.url, REDIS_KEY_PREFIX: "m3:" }),
    );
  await Bun.sleep(1_000); // every node a member
  await load(`${nodeCount} nodes, Redis`, many, `m${Date.now().toString(36)}`);
  await stopAll(many);
} finally {
  await redis.stop();
  rmSync(work, { recursive: true, force: true });
}
