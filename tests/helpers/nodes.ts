/**
 * Several cluster nodes in one test process: each a full app context (its own caches, hub, job queue and
 * Redis connections) on one shared SQLite file (each with its own writer; SQLite's write lock serialises
 * them), listening on its own loopback port, all on one Redis. Enough to test replication, acknowledgements,
 * trust, shared rate limits and realtime fan-out without a Postgres server; tests/cluster runs the compiled
 * binary on Postgres.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeContext } from "../../src/context.ts";
import { closeAllSockets } from "../../src/modules/realtime/hub.ts";
import { createTestApp, type TestApp } from "./app.ts";

export interface Node extends TestApp {
  name: string;
  port: number;
  http: string;
  ws: string;
  /** Close sockets, stop listening, leave the cluster, close the database. */
  stop(): Promise<void>;
}

export interface Nodes {
  nodes: Node[];
  file: string;
  /** Start one more node on the same database and Redis. */
  add(name: string, overrides?: Record<string, string>): Promise<Node>;
  stop(): Promise<void>;
}

export async function startNodes(
  names: string[],
  redisUrl: string,
  overrides: Record<string, string> = {},
): Promise<Nodes> {
  const dir = mkdtempSync(join(tmpdir(), "quire-nodes-"));
  const file = join(dir, "quire.db");
  const nodes: Node[] = [];
  const add = async (name: string, extra: Record<string, string> = {}) => {
    const t = await createTestApp(
      {
        DATABASE_URL: file,
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: `t${process.pid}:`,
        ...overrides,
        ...extra,
      },
      { member: true },
    );
    // One time for every node (each has its own fake clock): a job one enqueues is due for all.
    const first = nodes[0];
    if (first) t.clock.advance(first.clock.now() - t.clock.now());
    t.app.listen({ port: 0, hostname: "127.0.0.1" });
    const port = t.app.server!.port!;
    let stopped = false;
    const node: Node = {
      ...t,
      name,
      port,
      http: `http://127.0.0.1:${port}`,
      ws: `ws://127.0.0.1:${port}/api/realtime`,
      async stop() {
        if (stopped) return;
        stopped = true;
        closeAllSockets(t.ctx);
        await t.app.stop(true);
        await t.ctx.jobs.stop({ deadlineMs: 1_000 });
        await closeContext(t.ctx);
      },
    };
    nodes.push(node);
    return node;
  };
  // One after another: the first migrates the file.
  for (const name of names) await add(name);
  return {
    nodes,
    file,
    add,
    async stop() {
      for (const n of nodes) await n.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Wait until `check` holds (polling), or fail with `what`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 5_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** Every node trusts its caches (subscribed, heartbeat echoed) and sees every other as a member. */
export function clusterReady(nodes: Node[]): Promise<void> {
  return until(
    () =>
      nodes.every(
        (n) => n.ctx.cluster?.state() === "ok" && (n.ctx.cluster?.stats().members ?? 0) >= nodes.length,
      ),
    "the nodes to join the cluster",
  );
}
