/**
 * Clusters of the compiled binary for tests/cluster: N `quire serve` processes on one Postgres database (the
 * test Postgres, ./postgres.ts: a fresh database each) and one throwaway redis-server (./redis.ts), each node
 * with its own DATA_DIR and port. The binary is built once per test process and shared by every file.
 *
 * They run in the Postgres half of the suite only (TEST_ENGINE=postgres: a cluster needs Postgres), and are
 * skipped, after one line, where neither redis-server nor valkey-server is installed (.ci/run installs it).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { api, buildBinary, type Server, serverEnv, startServer } from "./binary.ts";
import { testEngine } from "./engine.ts";
import { testPostgres } from "./postgres.ts";
import { redisBinary, startRedis, type TestRedis } from "./redis.ts";

let warned = false;
/** True when this run has no cluster: the SQLite half, or no Redis server (said once per run). */
export function clusterSkip(): boolean {
  if (testEngine !== "postgres") return true; // the cluster tests run in the Postgres half
  if (!redisBinary && !warned) {
    warned = true;
    console.warn(
      "skipping tests/cluster: no redis-server or valkey-server on PATH (apt-get install redis-server)",
    );
  }
  return !redisBinary;
}

let built: Promise<string> | undefined;
const work = mkdtempSync(join(tmpdir(), "quire-cluster-"));
process.once("exit", () => rmSync(work, { recursive: true, force: true }));

/** The compiled binary (QUIRE_BINARY, or built once for the whole run). */
export const quireBinary = () => {
  built ??= buildBinary(work);
  return built;
};

export interface BinaryNode {
  name: string;
  server: Server;
  http: string;
  ws: string;
  /** Everything the node logged so far (stdout: JSON lines). */
  logs(): string;
  alive(): boolean;
}

export interface BinaryCluster {
  url: string;
  redis: TestRedis;
  nodes: BinaryNode[];
  /** SQL on the cluster's database (for asserting state). */
  sql: SQL;
  /** Start one more node on the same database and Redis (not waited into the cluster). */
  add(name: string, extra?: Record<string, string>): Promise<BinaryNode>;
  /** Start a process that is expected to exit: its exit code and output. */
  attempt(extra: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }>;
  kill9(node: BinaryNode): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Environment for every node. */
  env?: Record<string, string>;
  /** An empty database (nothing migrated): the nodes migrate it themselves. */
  empty?: boolean;
  /** Start the nodes all at the same moment instead of one after another. */
  together?: boolean;
}

export async function startCluster(names: string[], options: ClusterOptions = {}): Promise<BinaryCluster> {
  const binary = await quireBinary();
  const pg = await testPostgres();
  if (!pg) throw new Error("no test Postgres (see the line above)");
  const db = options.empty ? await pg.emptyDatabase() : await pg.freshDatabase();
  const redis = await startRedis();
  const dir = mkdtempSync(join(work, "cluster-"));
  const sql = new SQL({ url: db.url, max: 2 });
  const nodes: BinaryNode[] = [];
  const env = (name: string, extra: Record<string, string>) => {
    const dataDir = join(dir, name);
    mkdirSync(dataDir, { recursive: true });
    return {
      dataDir,
      vars: {
        DATABASE_URL: db.url,
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: "quire-test:",
        SHUTDOWN_GRACE_MS: "2000",
        ...options.env,
        ...extra,
      },
    };
  };
  const add = async (name: string, extra: Record<string, string> = {}) => {
    const { dataDir, vars } = env(name, extra);
    const server = await startServer(binary, dataDir, vars);
    const node: BinaryNode = {
      name,
      server,
      http: server.origin,
      ws: `${server.origin.replace(/^http/, "ws")}/api/realtime`,
      logs: () => server.stdout.text + server.stderr.text,
      alive: () => server.proc.exitCode === null && server.proc.signalCode === null,
    };
    nodes.push(node);
    return node;
  };
  if (options.together) await Promise.all(names.map((n) => add(n)));
  else for (const n of names) await add(n);
  let counter = 0;
  return {
    url: db.url,
    redis,
    nodes,
    sql,
    add,
    async attempt(extra) {
      const { dataDir, vars } = env(`attempt-${++counter}`, extra);
      const proc = Bun.spawn([binary, "serve"], {
        env: serverEnv(dataDir, vars),
        cwd: dataDir,
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
    },
    async kill9(node) {
      node.server.proc.kill("SIGKILL");
      await node.server.exited;
    },
    async stop() {
      // QUIRE_CLUSTER_LOGS=1: the nodes' warnings and errors, for a post-mortem.
      if (process.env.QUIRE_CLUSTER_LOGS)
        for (const n of nodes)
          for (const line of n.logs().split("\n"))
            if (/"level":"?(40|50|60|warn|error|fatal)|^quire:/.test(line))
              console.error(`[${n.name}] ${line}`);
      await Promise.all(
        nodes.map(async (n) => {
          if (n.alive()) n.server.proc.kill("SIGTERM");
          const timer = setTimeout(() => n.server.proc.kill("SIGKILL"), 5_000);
          await n.server.exited;
          clearTimeout(timer);
        }),
      );
      await sql.close();
      await redis.stop();
      await pg.dropDatabase(db.name).catch(() => undefined);
    },
  };
}

/** Wait until `check` holds (polling), or fail with `what`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

/** A gauge or counter of a node's /metrics (the sum over its label sets), or undefined if absent. */
export async function metric(node: BinaryNode, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${node.http}/metrics`)).text();
  const values = [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))].map((m) =>
    Number(m[1]),
  );
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
}

export async function readiness(node: BinaryNode) {
  const res = await fetch(`${node.http}/health/ready`);
  return {
    status: res.status,
    body: (await res.json()) as { status: string; checks: Record<string, string> },
  };
}

/** Every live node hears Redis, trusts its caches and counts every other as a member. */
export function clusterUp(nodes: BinaryNode[], ms = 15_000): Promise<void> {
  const live = nodes.filter((n) => n.alive());
  return until(
    async () => {
      for (const n of live) {
        const ready = await readiness(n);
        if (ready.status !== 200 || ready.body.checks.redis !== "ok") return false;
        if ((await metric(n, "quire_cluster_trusted")) !== 1) return false;
        if (((await metric(n, "quire_cluster_members")) ?? 0) < live.length) return false;
      }
      return true;
    },
    "the nodes to join the cluster",
    ms,
  );
}

/** A registered account (through `node`) and its token. */
export async function account(node: BinaryNode, prefix = "u") {
  const username = `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;
  const email = `${username}@example.com`;
  const password = "correct horse battery";
  const res = await api(node.http, "POST", "/api/users", { user: { username, email, password } });
  if (res.status !== 201) throw new Error(`register on ${node.name}: ${res.status} ${res.text}`);
  return { username, email, password, token: res.body.user.token as string };
}

export { api };
