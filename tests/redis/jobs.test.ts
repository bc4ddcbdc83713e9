/**
 * Issue 13, item 6: the workers of every node share one queue (each job runs once), a recurring job runs
 * once per period for the cluster, and a node whose workers are busy wakes the others through Redis.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { clusterReady, type Nodes, startNodes, until } from "../helpers/nodes.ts";
import { skipWithoutRedis, startRedis, type TestRedis } from "../helpers/redis.ts";

const skip = skipWithoutRedis();

describe.skipIf(skip)("jobs across nodes", () => {
  let redis: TestRedis;
  let cluster: Nodes;
  beforeAll(async () => {
    redis = await startRedis();
    // Workers that never poll on their own within a test: only wakes make them look.
    cluster = await startNodes(["A", "B", "C"], redis.url, {
      JOBS_POLL_INTERVAL_MS: "3600000",
      JOBS_CONCURRENCY: "1",
    });
    await clusterReady(cluster.nodes);
  });
  afterAll(async () => {
    await cluster?.stop();
    await redis?.stop();
  });

  test("jobs enqueued on every node run once each, whichever node's workers claim them", async () => {
    const ran: { id: number; node: string }[] = [];
    for (const node of cluster.nodes)
      node.ctx.jobs.register("test.once", async (job) => void ran.push({ id: job.id, node: node.name }));
    const ids: number[] = [];
    for (let i = 0; i < 30; i++)
      ids.push((await cluster.nodes[i % 3]!.ctx.jobs.enqueueNow("test.once", { i }))!);
    const counts = await Promise.all(cluster.nodes.map((n) => n.ctx.jobs.runDue()));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(30);
    expect(ran.map((r) => r.id).sort((a, b) => a - b)).toEqual(ids.sort((a, b) => a - b));
  });

  test("a recurring job runs once per period for the cluster, however many nodes look", async () => {
    const runs: string[] = [];
    const interval = 60_000;
    for (const node of cluster.nodes) {
      node.ctx.jobs.every("test.recurring", interval, async () => void runs.push(node.name));
      await node.ctx.jobs.scheduleRecurring(); // every node registers it at start: still one row
    }
    const [a] = cluster.nodes;
    expect(a!.sqlite.query("SELECT count(*) AS n FROM jobs WHERE type = 'test.recurring'").get()).toEqual({
      n: 1,
    });
    for (let period = 1; period <= 4; period++) {
      for (const n of cluster.nodes) n.clock.advance(interval);
      await Promise.all(cluster.nodes.map((n) => n.ctx.jobs.runDue()));
      expect(runs).toHaveLength(period);
    }
  });

  test("enqueued on a node whose only worker is busy: another node's worker runs it, woken through Redis", async () => {
    const [a, b, c] = cluster.nodes;
    let release!: () => void;
    const busy = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ranOn: string[] = [];
    for (const node of [a!, b!, c!]) {
      node.ctx.jobs.register("test.slow", () => busy);
      node.ctx.jobs.register("test.quick", async () => void ranOn.push(node.name));
    }
    for (const node of [a!, b!, c!]) await node.ctx.jobs.start();
    try {
      await a!.ctx.jobs.enqueueNow("test.slow");
      // Whichever node took the slow job has its one slot busy.
      let lockedBy: string | null | undefined;
      await until(() => {
        const row = a!.sqlite
          .query<{ state: string; locked_by: string | null }, []>(
            "SELECT state, locked_by FROM jobs WHERE type = 'test.slow'",
          )
          .get();
        lockedBy = row?.state === "running" ? row.locked_by : undefined;
        return lockedBy !== undefined;
      }, "the slow job to run");
      const busyNode = [a!, b!, c!].find((n) => lockedBy!.startsWith(n.ctx.jobs.workerId))!;
      await busyNode.ctx.jobs.enqueueNow("test.quick");
      await until(() => ranOn.length === 1, "another node to run the quick job");
      expect(ranOn[0]).not.toBe(busyNode.name);
    } finally {
      release();
      for (const node of [a!, b!, c!]) await node.ctx.jobs.stop({ deadlineMs: 1_000 });
    }
  });
});
