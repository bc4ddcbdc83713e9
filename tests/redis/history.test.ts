/**
 * The Redis topic log on its own (two logs = two nodes on one Redis): shared positions, delivery to every
 * node in position order, and the resume contract: exactly what was missed, or not ok when it was trimmed,
 * expired, from before Redis lost its data, or never handed out.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisTopicLog } from "../../src/infra/redis/history.ts";
import { RedisLink } from "../../src/infra/redis/link.ts";
import { createLogger } from "../../src/lib/logger.ts";
import type { LogEntry } from "../../src/lib/topic-history.ts";
import { until } from "../helpers/nodes.ts";
import { skipWithoutRedis, startRedis, type TestRedis } from "../helpers/redis.ts";

const skip = skipWithoutRedis();
const log = createLogger("silent");
const message = (text: string) => ({ before: `{"seq":`, after: `,"text":${JSON.stringify(text)}}` });

describe.skipIf(skip)("RedisTopicLog", () => {
  let redis: TestRedis;
  const links: RedisLink[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const l of links) l.close();
    await redis?.stop();
  });

  /** A node's log, subscribed, recording what it is delivered. */
  async function node(prefix: string, perTopic = 500, ttlMs = 60_000) {
    const link = new RedisLink({ url: redis.url, log, commandTimeoutMs: 1_000 });
    links.push(link);
    const history = new RedisTopicLog({ link, prefix, perTopic, ttlMs, log });
    const delivered: LogEntry<number | undefined>[] = [];
    const active = new Set<string>();
    history.listen({ deliver: (e) => void delivered.push(e), activeTopics: () => active, lost() {} });
    await link.connect();
    link.subscribe({
      channels: [history.channel],
      onMessage: (_c, m) => history.received(m),
      onSubscribed: () => void history.subscribed(),
      onLost: () => history.lostFeed(),
    });
    await until(() => link.subscribed, "the subscription");
    await history.resume([]); // waits for the first catch-up
    return { history, delivered, active };
  }

  test("positions are shared by every node and every topic; each node gets every message once, in order", async () => {
    const a = await node("h1:");
    const b = await node("h1:");
    for (let i = 0; i < 5; i++)
      await (i % 2 ? b : a).history.append(i % 3 ? "x" : "y", "k", message(`m${i}`), i);
    await until(() => a.delivered.length === 5 && b.delivered.length === 5, "the deliveries");
    expect(b.delivered).toEqual(a.delivered);
    const seqs = a.delivered.map((e) => e.seq);
    expect([...seqs].sort((p, q) => p - q)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(5);
    expect(a.delivered.map((e) => JSON.parse(e.message))).toEqual(
      seqs.map((seq, i) => ({ seq, text: `m${i}` })),
    );
    expect(a.delivered.map((e) => e.meta)).toEqual([0, 1, 2, 3, 4]);
    expect(a.delivered.map((e) => e.topic)).toEqual(["y", "x", "x", "y", "x"]);

    const snapshot = await b.history.resume([
      { topic: "x", since: seqs[1]! },
      { topic: "y", since: seqs[0]! },
      { topic: "x" },
    ]);
    expect(snapshot.position).toBe(seqs[4]!);
    expect(snapshot.replays[0]).toEqual({ ok: true, entries: [a.delivered[2]!, a.delivered[4]!] });
    expect(snapshot.replays[1]).toEqual({ ok: true, entries: [a.delivered[3]!] });
    expect(snapshot.replays[2]).toBeUndefined();
  });

  test("not ok: a position never handed out, or one whose messages were trimmed away", async () => {
    const a = await node("h2:", 3);
    for (let i = 0; i < 250; i++) await a.history.append("busy", "busy", message(String(i)), undefined);
    const { position } = await a.history.resume([]);
    const [future, trimmed, recent] = (
      await a.history.resume([
        { topic: "busy", since: position + 1 },
        { topic: "busy", since: position - 240 },
        { topic: "busy", since: position - 2 },
      ])
    ).replays;
    expect(future).toEqual({ ok: false });
    expect(trimmed).toEqual({ ok: false });
    expect(recent?.ok && recent.entries.map((e) => e.seq)).toEqual([position - 1, position]);
  });

  test("not ok: older than the history TTL (even for a topic whose stream expired), or from before Redis lost its data", async () => {
    const a = await node("h3:", 500, 1_000);
    await a.history.append("t", "t", message("old"), undefined);
    const { position: old } = await a.history.resume([]);
    expect((await a.history.resume([{ topic: "t", since: old - 1 }])).replays[0]?.ok).toBe(true);
    await Bun.sleep(1_200);
    await a.history.append("other", "other", message("later"), undefined);
    expect((await a.history.resume([{ topic: "t", since: old - 1 }])).replays[0]).toEqual({ ok: false });

    await redis.admin().send("FLUSHALL", []);
    const after = await a.history.resume([{ topic: "t", since: old }]);
    expect(after.replays[0]).toEqual({ ok: false });
    expect(after.position).toBeGreaterThan(old); // positions never go back
  });
});
