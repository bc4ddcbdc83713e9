/**
 * Starting a cluster of the compiled binary: three nodes started at the same moment on an empty Postgres
 * database (one migrates, the others wait for it), then the RealWorld Bruno suite through a round-robin proxy
 * in front of them, so that consecutive requests of one client land on different nodes. And the Postgres serve
 * lock (src/infra/postgres/serve-guard.ts): a node without REDIS_URL is alone on its database or refuses to
 * start, saying why.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startServer } from "../helpers/binary.ts";
import {
  account,
  api,
  type BinaryCluster,
  type BinaryNode,
  clusterSkip,
  clusterUp,
  quireBinary,
  startCluster,
} from "../helpers/cluster.ts";
import { testPostgres } from "../helpers/postgres.ts";
import { realworldDir } from "../helpers/realworld.ts";

const skip = clusterSkip();
const root = resolve(import.meta.dir, "../..");
const brunoDir = join(realworldDir, "bruno");
const haveBruno = existsSync(brunoDir);
if (!skip && !haveBruno)
  console.log(`skip: RealWorld Bruno suite not found at ${brunoDir} (set REALWORLD_DIR, see README)`);
/** Requests in the suite (one per .bru file outside environments/), as tests/e2e/binary.test.ts. */
const SUITE_REQUESTS = 154;
const journal = JSON.parse(readFileSync(join(root, "drizzle/pg/meta/_journal.json"), "utf8")) as {
  entries: unknown[];
};

describe.skipIf(skip)("three binary nodes started together on an empty database", () => {
  let cluster: BinaryCluster;
  let nodes: BinaryNode[];
  let proxy: ReturnType<typeof Bun.serve>;
  beforeAll(async () => {
    // Production's rate limits (the suite must pass against the defaults), shared by the three nodes.
    cluster = await startCluster(["A", "B", "C"], {
      empty: true,
      together: true,
      env: { RATE_LIMIT_ENABLED: "" },
    });
    nodes = cluster.nodes;
    let next = 0;
    proxy = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const target = nodes[next++ % nodes.length]!;
        const url = new URL(req.url);
        const headers = new Headers(req.headers);
        headers.delete("host");
        headers.set("accept-encoding", "identity");
        const res = await fetch(`${target.http}${url.pathname}${url.search}`, {
          method: req.method,
          headers,
          body: req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer(),
          redirect: "manual",
        });
        return new Response(res.body, { status: res.status, headers: res.headers });
      },
    });
  }, 180_000);
  afterAll(async () => {
    proxy?.stop(true);
    await cluster?.stop();
  });

  test("each starts, the migrations are applied once, and they form one cluster", async () => {
    expect(nodes.map((n) => n.alive())).toEqual([true, true, true]);
    await clusterUp(nodes);
    const [row] = await cluster.sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
    expect(row.n).toBe(journal.entries.length);
    const [a, b, c] = nodes as [BinaryNode, BinaryNode, BinaryNode];
    const user = await account(a);
    const login = await api(b.http, "POST", "/api/users/login", {
      user: { email: user.email, password: user.password },
    });
    expect(login.status).toBe(200);
    const me = await api(c.http, "GET", "/api/user", undefined, login.body.user.token);
    expect(me.status).toBe(200);
    expect(me.body.user.username).toBe(user.username);
  });

  test("a node without REDIS_URL refuses the cluster's database, saying why; the cluster keeps serving", async () => {
    const res = await cluster.attempt({ REDIS_URL: "" });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("of a cluster (REDIS_URL) are serving this database");
    expect(res.stderr).toContain("set the same REDIS_URL on this node");
    expect(res.stdout).not.toContain("listening on");
    expect(res.stdout).not.toContain("migrat"); // refused before touching the schema
    for (const n of nodes) expect((await api(n.http, "GET", "/api/tags")).status).toBe(200);
  });

  test.skipIf(!haveBruno)(
    "the RealWorld Bruno suite passes through a round-robin proxy in front of the three nodes",
    async () => {
      const bru = join(root, "node_modules", ".bin", "bru");
      const work = mkdtempSync(join(tmpdir(), "quire-cluster-bruno-"));
      const origin = `http://127.0.0.1:${proxy.port}`;
      const folders = readdirSync(brunoDir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && e.name !== "environments")
        .map((e) => e.name)
        .sort();
      let passed = 0;
      let failed = 0;
      const failures: string[] = [];
      // One bru process for every folder, in order (bru 4 takes several paths): its start-up, not the
      // requests, is most of a folder's time on a busy machine.
      const report = join(work, "bruno.json");
      const args = ["run", ...folders, "--env", "local", "--env-var", `host=${origin}`, "--sandbox", "safe"];
      const proc = Bun.spawn([bru, ...args, "--noproxy", "--reporter-json", report], {
        cwd: brunoDir,
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, err] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
      ]);
      await proc.exited;
      if (!existsSync(report)) throw new Error(`bru wrote no report\n${out}\n${err}`);
      for (const iteration of JSON.parse(readFileSync(report, "utf8")) as BrunoIteration[]) {
        passed += iteration.summary.passedRequests;
        failed += iteration.summary.failedRequests + iteration.summary.errorRequests;
        for (const r of iteration.results)
          if (r.status !== "pass")
            failures.push(`✕ ${r.path} (HTTP ${r.response?.status ?? "-"}) ${r.error ?? ""}`);
      }
      if (failures.length > 0) console.error(`Bruno failures (${failures.length}):\n${failures.join("\n")}`);
      expect({ passed, failed }).toEqual({ passed: SUITE_REQUESTS, failed: 0 });
    },
    600_000,
  );
});

describe.skipIf(skip)("a Postgres node without REDIS_URL is alone on its database", () => {
  test("a second single node, or a cluster node, refuses to start; once the first is killed (-9), a new one starts at once", async () => {
    const binary = await quireBinary();
    const pg = (await testPostgres())!;
    const db = await pg.freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), "quire-single-"));
    const start = (name: string, extra: Record<string, string> = {}) =>
      startServer(binary, join(dir, name), { DATABASE_URL: db.url, REDIS_URL: "", ...extra });
    const run = async (name: string, extra: Record<string, string> = {}) => {
      const proc = Bun.spawn([binary, "serve"], {
        env: {
          NODE_ENV: "production",
          JWT_SECRET: "ops-e2e-secret-that-is-long-enough-0123456789",
          HOST: "127.0.0.1",
          PORT: "0",
          DATA_DIR: join(dir, name),
          DATABASE_URL: db.url,
          ...extra,
        },
        stdout: "pipe",
        stderr: "pipe",
        stdin: "ignore",
      });
      const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
      const [stdout, stderr, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      clearTimeout(timer);
      return { code, stdout, stderr };
    };
    const first = await start("first");
    try {
      const second = await run("second");
      expect(second.code).toBe(1);
      expect(second.stderr).toContain("a Quire server without REDIS_URL is serving this database");
      expect(second.stderr).toContain("set the same REDIS_URL on both to run a cluster");
      expect(second.stdout).not.toContain("listening on");
      const member = await run("member", { REDIS_URL: "redis://127.0.0.1:1" });
      expect(member.code).toBe(1);
      expect(member.stderr).toContain("give it the same REDIS_URL so that it joins the cluster");
      expect((await api(first.origin, "GET", "/api/tags")).status).toBe(200);
    } finally {
      first.proc.kill("SIGKILL");
      await first.exited;
    }
    // Postgres released the lock with the killed process's connection: no stale lock to wait out.
    const next = await start("next");
    try {
      expect((await api(next.origin, "GET", "/api/tags")).status).toBe(200);
    } finally {
      next.proc.kill("SIGTERM");
      await next.exited;
      await pg.dropDatabase(db.name).catch(() => undefined);
    }
  });
});

/** The parts of @usebruno/cli's --reporter-json output read here. */
interface BrunoIteration {
  summary: { passedRequests: number; failedRequests: number; errorRequests: number };
  results: { path: string; status: string; error?: string | null; response?: { status?: number } }[];
}
