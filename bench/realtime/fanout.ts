/**
 * Realtime fan-out benchmark: N WebSocket subscribers of one topic (N = 1,000 and 5,000 by default) over
 * loopback, Quire against a raw `Bun.serve` pub/sub baseline doing the same fan-out, in the same run.
 *
 * - Quire: the real app (createApp on a fresh :memory: database) in this process; each event is a real
 *   `POST /api/articles` (auth, validation, SQLite write, FTS, payload, history, publish). Connection limits
 *   are raised for the run; everything else is at its defaults.
 * - Baseline: Bun.serve whose `POST /publish` does one `server.publish` of a message of the same shape.
 * - The same publisher process (bench/realtime/publisher.ts) sends both the same HTTP requests, and the
 *   subscribers live in 2 other Bun processes (bench/realtime/subscriber.ts): this process only serves.
 *
 * Two phases per server and size: a burst (E events as fast as the publisher goes; delivered messages/s
 * from the first publish to the last delivery), then a paced phase (R events/s for a few seconds; p50/p99
 * of publish → delivery latency, the timestamp travelling in the payload). Timing is never asserted: this
 * prints figures side by side.
 *
 *   bun bench/realtime/fanout.ts [--subs 1000,5000] [--procs 2]     (BENCH_DEBUG=1: per-phase details)
 *
 * On a shared machine both servers suffer alike but the figures move a lot: the load average is printed.
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { closeContext, createContext } from "../../src/context.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { closeAllSockets } from "../../src/modules/realtime/hub.ts";
import { eventMessage } from "../../src/modules/realtime/protocol.ts";

const { values } = parseArgs({
  options: { subs: { type: "string", default: "1000,5000" }, procs: { type: "string", default: "2" } },
});
const sizes = values.subs!.split(",").map(Number);
const procs = Number(values.procs);
const stamp = () => performance.timeOrigin + performance.now();

interface Target {
  name: string;
  ws: string;
  /** Where the publisher POSTs an event, and the token it sends. */
  post: string;
  token?: string;
  stop(): Promise<void>;
}

async function startQuire(): Promise<Target> {
  const config = loadConfig({
    NODE_ENV: "test",
    DATABASE_URL: ":memory:",
    JWT_SECRET: "bench-secret-0123456789-abcdefghijklmnop",
    LOG_LEVEL: "silent",
    PASSWORD_MEMORY_COST_KIB: "8",
    PASSWORD_TIME_COST: "1",
    RATE_LIMIT_ENABLED: "false",
    REALTIME_MAX_CONNECTIONS: "100000",
    REALTIME_MAX_CONNECTIONS_PER_IP: "100000",
  });
  const ctx = await createContext(config, createLogger("silent"));
  const app = createApp(ctx);
  app.listen({ port: 0, hostname: "127.0.0.1" });
  const base = `http://127.0.0.1:${app.server!.port}`;
  const post = (path: string, body: unknown, token?: string) =>
    app.handle(
      new Request(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token && { authorization: `Token ${token}` }) },
        body: JSON.stringify(body),
      }),
    );
  const reg = await post("/api/users", {
    user: { username: "bench", email: "bench@example.com", password: "benchmark-pw" },
  });
  const token = ((await reg.json()) as { user: { token: string } }).user.token;
  return {
    name: "quire",
    ws: `ws://127.0.0.1:${app.server!.port}/api/realtime`,
    post: `${base}/api/articles`,
    token,
    async stop() {
      closeAllSockets(ctx);
      await app.stop(true);
      await closeContext(ctx);
    },
  };
}

/** The same shape as Quire's article.created message (a list item), so both send the same bytes. */
function sampleArticle(n: number, description: string) {
  const at = new Date().toISOString();
  return {
    slug: `bench-${n}-a1b2c3`,
    title: `bench ${n}`,
    description,
    tagList: [],
    createdAt: at,
    updatedAt: at,
    favorited: false,
    favoritesCount: 0,
    author: { username: "bench", bio: null, image: null, following: false },
  };
}

function startBaseline(): Target {
  let seq = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req, srv) {
      if (req.method === "POST") {
        const { article } = (await req.json()) as { article: { description: string } };
        seq += 1;
        const data = { article: sampleArticle(seq, article.description) };
        srv.publish("articles", eventMessage("articles", seq, "article.created", data), false);
        return Response.json(data, { status: 201 });
      }
      return srv.upgrade(req) ? undefined : new Response("upgrade required", { status: 426 });
    },
    websocket: {
      perMessageDeflate: false,
      idleTimeout: 0,
      sendPings: false,
      message(ws, raw) {
        const m = JSON.parse(String(raw));
        ws.subscribe(m.topic);
        ws.send(JSON.stringify({ type: "subscribed", topic: m.topic, seq }));
      },
    },
  });
  return {
    name: "baseline",
    ws: `ws://127.0.0.1:${server.port}/`,
    post: `http://127.0.0.1:${server.port}/publish`,
    async stop() {
      await server.stop(true);
    },
  };
}

/** The publisher process: one command at a time, answered with {type:"done"}. */
async function startPublisher(target: Target) {
  let answer: (m: { ms: number; failed: number }) => void = () => {};
  let ready: () => void = () => {};
  const started = new Promise<void>((r) => (ready = r));
  const proc = Bun.spawn(
    [
      process.execPath,
      `${import.meta.dir}/publisher.ts`,
      target.post,
      ...(target.token ? [target.token] : []),
    ],
    {
      stdout: "inherit",
      stderr: "inherit",
      ipc(message) {
        if (message.type === "ready") ready();
        else answer(message);
      },
    },
  );
  await started;
  return {
    run(command: Record<string, unknown>) {
      return new Promise<{ ms: number; failed: number }>((resolve) => {
        answer = resolve;
        proc.send(command);
      });
    },
    async stop() {
      proc.send({ type: "exit" });
      await proc.exited;
    },
  };
}

interface Report {
  received: number;
  first: number;
  last: number;
  buckets: [number, number][];
  bucketMs: number;
  closedEarly: number;
}

class Subscribers {
  #procs: Bun.Subprocess[] = [];
  #inbox: ((m: { type: string } & Partial<Report>) => void)[] = [];

  static async start(url: string, total: number): Promise<Subscribers> {
    const s = new Subscribers();
    const ready: Promise<unknown>[] = [];
    for (let i = 0; i < procs; i++) {
      const count = Math.floor(total / procs) + (i < total % procs ? 1 : 0);
      let onReady: (v: unknown) => void = () => {};
      ready.push(new Promise((r) => (onReady = r)));
      const index = i;
      const proc = Bun.spawn([process.execPath, `${import.meta.dir}/subscriber.ts`, url, String(count)], {
        stdout: "inherit",
        stderr: "inherit",
        ipc(message) {
          if (message.type === "ready") onReady(message);
          else s.#inbox[index]?.(message);
        },
      });
      s.#procs.push(proc);
    }
    await Promise.all(ready);
    return s;
  }

  #ask(type: string): Promise<Report[]> {
    return Promise.all(
      this.#procs.map(
        (p, i) =>
          new Promise<Report>((resolve) => {
            this.#inbox[i] = (m) => resolve(m as Report);
            p.send({ type });
          }),
      ),
    );
  }

  reset = () => this.#ask("reset");
  report = () => this.#ask("report");

  /** Wait until `expected` deliveries in total (or the deadline); the merged report. */
  async waitFor(expected: number, ms = 30_000): Promise<Report> {
    const deadline = Date.now() + ms;
    for (;;) {
      const reports = await this.report();
      const received = reports.reduce((n, r) => n + r.received, 0);
      if (received >= expected || Date.now() > deadline) {
        const buckets = new Map<number, number>();
        for (const r of reports) for (const [i, n] of r.buckets) buckets.set(i, (buckets.get(i) ?? 0) + n);
        return {
          received,
          first: Math.min(...reports.map((r) => r.first || Number.POSITIVE_INFINITY)),
          last: Math.max(...reports.map((r) => r.last)),
          buckets: [...buckets.entries()].sort((a, b) => a[0] - b[0]),
          bucketMs: reports[0]!.bucketMs,
          closedEarly: reports.reduce((n, r) => n + r.closedEarly, 0),
        };
      }
      await Bun.sleep(100);
    }
  }

  async stop(): Promise<void> {
    for (const p of this.#procs) p.send({ type: "exit" });
    await Promise.all(this.#procs.map((p) => p.exited));
  }
}

function percentile(r: Report, q: number): number {
  const target = Math.ceil(r.received * q);
  let seen = 0;
  for (const [i, n] of r.buckets) {
    seen += n;
    if (seen >= target) return (i + 1) * r.bucketMs;
  }
  return Number.NaN;
}

interface Row {
  subs: number;
  server: string;
  burstEvents: number;
  msgsPerSec: number;
  pacedRate: number;
  p50: number;
  p99: number;
  lost: number;
}

async function measure(target: Target, subs: number): Promise<Row> {
  const s = await Subscribers.start(target.ws, subs);
  const publisher = await startPublisher(target);
  try {
    // Warm-up: JIT, prepared statements, buffers.
    await s.reset();
    await publisher.run({ type: "burst", count: 10, concurrency: 1 });
    await s.waitFor(10 * subs);

    // Burst: delivered messages/s, with a few requests in flight as a busy server would have.
    const burst = subs >= 5_000 ? 100 : 300;
    await s.reset();
    const t0 = stamp();
    const cpu0 = process.cpuUsage();
    const sent = await publisher.run({ type: "burst", count: burst, concurrency: 4 });
    const b = await s.waitFor(burst * subs);
    const cpu = process.cpuUsage(cpu0);
    const msgsPerSec = b.received / ((b.last - t0) / 1000);
    if (process.env.BENCH_DEBUG)
      console.error(
        `    publish ${sent.ms.toFixed(0)} ms, last delivery ${(b.last - t0).toFixed(0)} ms, server cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms (sys ${(cpu.system / 1000).toFixed(0)})`,
      );

    // Paced: latency at a steady rate well under the burst's capacity.
    const rate = subs >= 5_000 ? 10 : 50;
    const events = rate * 3;
    await s.reset();
    const paced = await publisher.run({ type: "paced", count: events, rate });
    const p = await s.waitFor(events * subs);
    return {
      subs,
      server: target.name,
      burstEvents: burst,
      msgsPerSec,
      pacedRate: rate,
      p50: percentile(p, 0.5),
      p99: percentile(p, 0.99),
      lost: burst * subs - b.received + (events * subs - p.received) + sent.failed + paced.failed,
    };
  } finally {
    await publisher.stop();
    await s.stop();
  }
}

const rows: Row[] = [];
const began = performance.now();
const loadBefore = loadavg()[0]!.toFixed(2);
for (const subs of sizes) {
  for (const start of [startBaseline, startQuire]) {
    const target = await start();
    try {
      const row = await measure(target, subs);
      rows.push(row);
      console.error(
        `  ${subs} ${row.server}: ${Math.round(row.msgsPerSec)} msgs/s, p99 ${row.p99.toFixed(2)} ms`,
      );
    } finally {
      await target.stop();
    }
  }
}

const fmt = (x: number, d = 0) =>
  x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(`\nRealtime fan-out over loopback (${procs} subscriber processes, Bun ${Bun.version}):\n`);
console.log("| subscribers | server | burst msgs/s | × baseline | paced rate | p50 ms | p99 ms | lost |");
console.log("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  const base = rows.find((x) => x.subs === r.subs && x.server === "baseline")!;
  console.log(
    `| ${fmt(r.subs)} | ${r.server} | ${fmt(r.msgsPerSec)} | ${(r.msgsPerSec / base.msgsPerSec).toFixed(2)} | ${r.pacedRate} ev/s | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${r.lost} |`,
  );
}
console.log(
  `\nburst: 300 events (100 from 5,000 subscribers up), 4 requests in flight; paced: 3 s; ${((performance.now() - began) / 1000).toFixed(0)} s in all; load average ${loadBefore} → ${loadavg()[0]!.toFixed(2)} on ${navigator.hardwareConcurrency} CPUs`,
);
