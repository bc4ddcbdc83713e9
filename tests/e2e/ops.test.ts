/**
 * Operations against the compiled binary over real sockets: graceful shutdown with requests in flight,
 * kill -9 durability, backups under write load, restore, the healthcheck command, metrics and traces.
 * Figures (requests answered, writes acknowledged and found) are printed for the record. On the run's engine
 * (tests/helpers/binary.ts); backups as the engine makes them (tests/ops/helpers.ts).
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  api,
  buildBinary,
  openDatabase,
  refused,
  register,
  runCli,
  type Server,
  serverEnv,
  splitRequest,
  startServer,
  workDir,
} from "../helpers/binary.ts";
import { onlyOn, testEngine } from "../helpers/engine.ts";
import { backupExtension, backupProblem, metric, withBackup } from "../ops/helpers.ts";

const problem = await backupProblem();
if (problem) console.warn(`binary backup test skipped on ${testEngine}: ${problem}`);

const work = workDir();
let binary = "";
const servers: Server[] = [];
let dirs = 0;
const freshData = () => {
  const dir = join(work, `run-${++dirs}`, "data");
  mkdirSync(dir, { recursive: true });
  return dir;
};

async function start(dataDir: string, extra: Record<string, string> = {}) {
  const server = await startServer(binary, dataDir, extra);
  servers.push(server);
  return server;
}

/** The article slugs in a database, read with SQL. */
const slugsIn = async (db: { all<T>(sql: string): Promise<T[]> }) =>
  new Set((await db.all<{ slug: string }>("SELECT slug FROM articles")).map((r) => r.slug));

/**
 * The data of `dataDir`'s database with the server stopped: whether it is sound (SQLite: integrity_check;
 * Postgres: it answers) and its article slugs.
 */
async function inspect(dataDir: string): Promise<{ integrity: string[]; slugs: Set<string> }> {
  if (testEngine === "sqlite") {
    const db = new Database(join(dataDir, "quire.db"), { readonly: true });
    try {
      const integrity = db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").all();
      const slugs = db.query<{ slug: string }, []>("SELECT slug FROM articles").all();
      return { integrity: integrity.map((r) => r.integrity_check), slugs: new Set(slugs.map((r) => r.slug)) };
    } finally {
      db.close();
    }
  }
  const db = await openDatabase(dataDir);
  try {
    return { integrity: ["ok"], slugs: await slugsIn(db) };
  } finally {
    await db.close();
  }
}

/** Writers creating articles as fast as they are answered; every 201's slug is recorded. */
function writeBurst(origin: string, token: string, concurrency: number) {
  const acked: string[] = [];
  let failed = 0;
  let stop = false;
  const loops = Array.from({ length: concurrency }, async (_, w) => {
    for (let i = 0; !stop; i++) {
      try {
        const res = await api(
          origin,
          "POST",
          "/api/articles",
          {
            article: { title: `w${w} n${i} ${Math.random()}`, description: "burst", body: "x".repeat(500) },
          },
          token,
        );
        if (res.status === 201) acked.push(res.body.article.slug);
        else failed++;
      } catch {
        failed++;
        if (stop) return;
        await Bun.sleep(5);
      }
    }
  });
  return {
    acked,
    failed: () => failed,
    stop: async () => {
      stop = true;
      await Promise.all(loops);
    },
  };
}

beforeAll(async () => {
  binary = await buildBinary(work);
}, 180_000);

afterAll(async () => {
  for (const s of servers) if (s.proc.exitCode === null) s.proc.kill("SIGKILL");
  if (!process.env.QUIRE_E2E_KEEP) rmSync(work, { recursive: true, force: true });
});

describe("graceful shutdown", () => {
  test("SIGTERM with 200 requests in flight: all answered 201, readiness 503, then refused, exit 0", async () => {
    const dataDir = freshData();
    const server = await start(dataDir, { SHUTDOWN_DELAY_MS: "1500", SHUTDOWN_GRACE_MS: "20000" });
    const token = await register(server.origin, "drainer");
    const IN_FLIGHT = 200;
    let releaseBodies!: () => void;
    const release = new Promise<void>((r) => (releaseBodies = r));
    let sent = 0;
    const head = `POST /api/articles HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Token ${token}\r\n`;
    const requests = Array.from({ length: IN_FLIGHT }, (_, i) => {
      const body = JSON.stringify({
        article: { title: `In flight ${i}`, description: "d", body: "b".repeat(4_000) },
      });
      return splitRequest(server.port, head, body, 100, release, () => sent++);
    });
    // Every request is inside the server (headers read, handler waiting for its body) before the signal.
    let inFlight = 0;
    for (let i = 0; i < 200 && inFlight < IN_FLIGHT; i++) {
      const text = (await api(server.origin, "GET", "/metrics")).text;
      inFlight = (metric(text, "http_requests_in_flight") ?? 0) - 1; // minus the scrape itself
      if (inFlight < IN_FLIGHT) await Bun.sleep(25);
    }
    expect({ sent, inFlight }).toEqual({ sent: IN_FLIGHT, inFlight: IN_FLIGHT });

    server.proc.kill("SIGTERM");
    // During the delay: still accepting, but readiness says go away.
    await Bun.sleep(100);
    const ready = await api(server.origin, "GET", "/health/ready");
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({
      status: "unavailable",
      checks: { database: "ok", migrations: "ok", draining: "failed" },
    });
    // After the delay: the listener is closed while the 200 are still waiting for their bodies.
    let closed = false;
    for (let i = 0; i < 100 && !closed; i++) {
      closed = await refused(server.port);
      if (!closed) await Bun.sleep(50);
    }
    expect(closed).toBe(true);
    expect(server.proc.exitCode).toBeNull();

    releaseBodies();
    const statuses = await Promise.all(requests);
    const code = await server.exited;
    const answered = statuses.filter((s) => s === 201).length;
    console.log(
      `shutdown: ${answered}/${IN_FLIGHT} in-flight requests answered 201 after SIGTERM, exit ${code}`,
    );
    // Anything but 201 is explained by the server's error lines (for a failure in CI).
    const errors = server.stdout.text.split("\n").filter((l) => /"level":(50|60)/.test(l));
    if (errors.length > 0) console.error(`server errors:\n${errors.join("\n")}`);
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    expect(code).toBe(0);
    expect(server.stdout.text).toContain('"msg":"stopped"');
    if (testEngine === "sqlite") {
      const db = join(dataDir, "quire.db");
      expect(existsSync(`${db}-wal`) ? Bun.file(`${db}-wal`).size : 0).toBe(0); // checkpointed
      expect(existsSync(`${db}.serve.lock`)).toBe(false);
    }
    const { integrity, slugs } = await inspect(dataDir);
    expect(integrity).toEqual(["ok"]);
    expect(slugs.size).toBe(IN_FLIGHT);
  }, 60_000);
});

describe("crash safety", () => {
  test("kill -9 during a burst of writes loses no acknowledged write; integrity ok after restart", async () => {
    const dataDir = freshData();
    const first = await start(dataDir);
    const token = await register(first.origin, "crasher");
    const burst = writeBurst(first.origin, token, 16);
    const deadline = Date.now() + 20_000;
    while (burst.acked.length < 300 && Date.now() < deadline) await Bun.sleep(10);
    expect(burst.acked.length).toBeGreaterThanOrEqual(300);
    first.proc.kill("SIGKILL");
    const killedAt = burst.acked.length;
    await burst.stop();
    const acked = [...burst.acked];
    expect(await first.exited).not.toBe(0);

    const second = await start(dataDir);
    expect((await api(second.origin, "GET", "/health/ready")).status).toBe(200);
    const listed = await api(second.origin, "GET", "/api/articles?limit=1");
    expect(listed.status).toBe(200);
    expect(listed.body.articlesCount).toBeGreaterThanOrEqual(acked.length);
    second.proc.kill("SIGTERM");
    expect(await second.exited).toBe(0);

    const { integrity, slugs } = await inspect(dataDir);
    const missing = acked.filter((s) => !slugs.has(s));
    console.log(
      `kill -9: ${acked.length} writes acknowledged (${killedAt} when killed), ${acked.length - missing.length} found after restart, ${missing.length} missing, ${slugs.size} rows, integrity ${integrity.join(",")}`,
    );
    expect(missing).toEqual([]);
    expect(integrity).toEqual(["ok"]);
  }, 60_000);
});

describe("backup and restore", () => {
  test.skipIf(problem !== undefined)(
    "backups under write load are consistent; restore swaps one in and the server serves it",
    async () => {
      const dataDir = freshData();
      const server = await start(dataDir);
      const env = serverEnv(dataDir);
      const token = await register(server.origin, "writer");
      const admin = await runCli(
        binary,
        [
          "admin",
          "create",
          "--email",
          "root@example.com",
          "--username",
          "root",
          "--password",
          "correct horse battery",
        ],
        env,
      );
      expect(admin.code).toBe(0);
      const login = await api(server.origin, "POST", "/api/users/login", {
        user: { email: "root@example.com", password: "correct horse battery" },
      });
      expect(login.status).toBe(200);
      for (let i = 0; i < 100; i++) {
        const res = await api(
          server.origin,
          "POST",
          "/api/articles",
          {
            article: { title: `Seed ${i}`, description: "d", body: "y".repeat(2_000) },
          },
          token,
        );
        expect(res.status).toBe(201);
      }

      const burst = writeBurst(server.origin, token, 4);
      await Bun.sleep(200);
      const before = burst.acked.length + 100;
      const cliBackup = join(work, `cli-${dirs}${backupExtension}`);
      const cli = await runCli(binary, ["backup", cliBackup], env);
      const viaApi = await api(server.origin, "POST", "/api/admin/backups", undefined, login.body.user.token);
      const after = burst.acked.length + 100;
      await Bun.sleep(100);
      await burst.stop();
      expect(cli.code).toBe(0);
      expect(viaApi.status).toBe(201);
      expect(burst.acked.length).toBeGreaterThan(0);
      expect(burst.failed()).toBe(0);
      for (const file of [cliBackup, join(dataDir, "backups", viaApi.body.backup.name)]) {
        const slugs = await withBackup(file, slugsIn);
        expect(slugs.size).toBeGreaterThanOrEqual(before - 4); // writes in flight when the count was read
        expect(slugs.size).toBeLessThanOrEqual(after + 4);
      }
      const listed = await api(server.origin, "GET", "/api/admin/backups", undefined, login.body.user.token);
      expect(listed.body.backupsCount).toBe(1);

      // Restore is refused while the server runs, and nothing changes.
      const whileRunning = await runCli(binary, ["restore", cliBackup], env);
      expect(whileRunning.code).toBe(1);
      expect(whileRunning.stderr).toContain("stop it first");

      server.proc.kill("SIGTERM");
      expect(await server.exited).toBe(0);
      const backedUp = await withBackup(cliBackup, slugsIn);
      expect((await inspect(dataDir)).slugs.size).toBeGreaterThan(backedUp.size);
      const restored = await runCli(binary, ["restore", cliBackup], env);
      expect(restored.code).toBe(0);
      expect(readdirSync(dataDir).some((f) => f.includes("pre-restore-"))).toBe(true);
      const { integrity, slugs } = await inspect(dataDir);
      expect(integrity).toEqual(["ok"]);
      expect(slugs).toEqual(backedUp);

      const again = await start(dataDir);
      expect((await api(again.origin, "GET", "/health/ready")).status).toBe(200);
      const page = await api(again.origin, "GET", "/api/articles?limit=1");
      expect(page.body.articlesCount).toBe(backedUp.size);
      const health = await runCli(binary, ["healthcheck", "--port", String(again.port)], env);
      expect(health.code).toBe(0);
      again.proc.kill("SIGTERM");
      expect(await again.exited).toBe(0);
      expect((await runCli(binary, ["healthcheck", "--port", String(again.port)], env)).code).toBe(1);
    },
    90_000,
  );
});

// SQLite-only: the serve lock (none on Postgres).
onlyOn("sqlite")("one server per data directory", () => {
  test("a second binary on the same data directory exits 1 naming the first; the first keeps serving", async () => {
    const dataDir = freshData();
    const first = await start(dataDir);
    const second = await runCli(binary, ["serve"], serverEnv(dataDir));
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`is already being served by pid ${first.proc.pid}`);
    expect(second.stdout).not.toContain("listening");
    expect((await api(first.origin, "GET", "/health/ready")).status).toBe(200);
    first.proc.kill("SIGTERM");
    expect(await first.exited).toBe(0);
  }, 30_000);
});

describe("observability of the binary", () => {
  test("metrics over the socket; traces exported over OTLP/HTTP when configured", async () => {
    const received: { path: string; type: string | null; bytes: number }[] = [];
    const collector = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(req) {
        received.push({
          path: new URL(req.url).pathname,
          type: req.headers.get("content-type"),
          bytes: (await req.arrayBuffer()).byteLength,
        });
        return new Response(null, { status: 200 });
      },
    });
    try {
      const server = await start(freshData(), {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`,
        METRICS_TOKEN: "scrape-token-0123456789",
      });
      expect(server.stdout.text).toContain("tracing enabled");
      const tags = await fetch(`${server.origin}/api/tags`, { headers: { "x-request-id": "e2e-1" } });
      expect(tags.headers.get("x-request-id")).toBe("e2e-1");
      expect((await api(server.origin, "GET", "/metrics")).status).toBe(401);
      const scrape = await fetch(`${server.origin}/metrics`, {
        headers: { authorization: "Bearer scrape-token-0123456789" },
      });
      const text = await scrape.text();
      expect(metric(text, "http_requests_total", { method: "GET", route: "/api/tags", status: "200" })).toBe(
        1,
      );
      expect(metric(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
      server.proc.kill("SIGTERM");
      expect(await server.exited).toBe(0);
      expect(server.stdout.text).toContain('"reqId":"e2e-1"');
      // Shutdown flushes the last batch of spans.
      expect(received.filter((r) => r.path === "/v1/traces" && r.bytes > 0).length).toBeGreaterThan(0);
      expect(received[0]?.type).toBe("application/x-protobuf");
    } finally {
      collector.stop(true);
    }
  }, 30_000);
});
