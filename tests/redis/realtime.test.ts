/**
 * Issue 13, items 1, 2, 5 and 8 on in-process nodes (one SQLite file, one real Redis), over real sockets:
 * an event committed on A reaches WebSocket and SSE subscribers on every node once, in commit order;
 * positions are shared, so a client resumes on any node (`since`, Last-Event-ID) with exactly what it
 * missed, or `reset`; ended sessions close sockets on every node; connection caps hold for the cluster.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addComment, createArticle, follow, registerUser } from "../helpers/app.ts";
import { clusterReady, type Nodes, startNodes, until } from "../helpers/nodes.ts";
import { skipWithoutRedis, startRedis, type TestRedis } from "../helpers/redis.ts";
import { Client, refusedUpgrade, sseReader } from "../realtime/helpers.ts";

const skip = skipWithoutRedis();

describe.skipIf(skip)("realtime across nodes", () => {
  let redis: TestRedis;
  let cluster: Nodes;
  beforeAll(async () => {
    redis = await startRedis();
    cluster = await startNodes(["A", "B", "C"], redis.url, { REALTIME_MAX_CONNECTIONS_PER_IP: "4" });
    await clusterReady(cluster.nodes);
  });
  afterAll(async () => {
    await cluster?.stop();
    await redis?.stop();
  });
  const nodes = () => {
    const [a, b, c] = cluster.nodes;
    return { a: a!, b: b!, c: c! };
  };

  test("writes on A reach WebSockets on A and C and an SSE stream on B, once each, in commit order", async () => {
    const { a, b, c } = nodes();
    const author = await registerUser(a);
    const wsA = await Client.open(a.ws);
    const wsC = await Client.open(c.ws);
    for (const ws of [wsA, wsC]) expect((await ws.subscribe("articles")).ack.type).toBe("subscribed");
    const sse = await fetch(`${b.http}/api/realtime/sse?topics=articles`);
    expect(sse.status).toBe(200);
    const stream = sseReader(sse);
    expect((await stream.next()).data.type).toBe("subscribed");

    const titles = ["one", "two", "three"].map((t) => `${t} ${Date.now()}`);
    for (const title of titles) await createArticle(a, author.token, { title });

    const positions: number[][] = [];
    for (const ws of [wsA, wsC]) {
      const got = await ws.take(3);
      positions.push(got.map((m) => m.seq));
      expect(got.map((m) => m.data.article.title)).toEqual(titles);
      expect(got.map((m) => m.event)).toEqual(Array(3).fill("article.created"));
      const seqs = got.map((m) => m.seq);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
      await ws.quiet(); // nothing twice
    }
    const frames = [await stream.next(), await stream.next(), await stream.next()];
    expect(frames.map((f) => f.data.data.article.title)).toEqual(titles);
    expect(frames.map((f) => Number(f.id))).toEqual(frames.map((f) => f.data.seq));
    // The same event has the same position on every node.
    positions.push(frames.map((f) => f.data.seq));
    expect(positions[1]).toEqual(positions[0]!);
    expect(positions[2]).toEqual(positions[0]!);
    await stream.cancel();
    wsA.close();
    wsC.close();
  });

  test("resume on another node: exactly the missed events (WebSocket `since`, SSE Last-Event-ID)", async () => {
    const { a, b, c } = nodes();
    const author = await registerUser(a);
    const article = await createArticle(a, author.token);
    const topic = `articles:${article.slug}`;
    const first = await Client.open(b.ws);
    const { ack } = await first.subscribe(topic);
    await addComment(a, author.token, article.slug, "seen");
    const seen = await first.next();
    expect(seen.data.comment.body).toBe("seen");
    first.close();
    await first.closed;

    await addComment(c, author.token, article.slug, "missed 1");
    await addComment(a, author.token, article.slug, "missed 2");

    const again = await Client.open(c.ws);
    const resumed = await again.subscribe(topic, seen.seq);
    expect(resumed.before.map((m) => m.data.comment.body)).toEqual(["missed 1", "missed 2"]);
    expect(resumed.ack.seq).toBeGreaterThanOrEqual(resumed.before[1].seq);
    await again.quiet();
    again.close();

    const sse = await fetch(`${a.http}/api/realtime/sse?topics=${encodeURIComponent(topic)}`, {
      headers: { "last-event-id": String(ack.seq) },
    });
    expect(sse.status).toBe(200);
    const stream = sseReader(sse);
    const replay = [await stream.next(), await stream.next(), await stream.next()];
    expect(replay.map((f) => f.data.data.comment.body)).toEqual(["seen", "missed 1", "missed 2"]);
    expect((await stream.next()).data.type).toBe("subscribed");
    await stream.cancel();
  });

  test("a position the history no longer has, or never handed out, is a reset on every node", async () => {
    const { a, b } = nodes();
    for (const node of [a, b]) {
      const ws = await Client.open(node.ws);
      const old = await ws.subscribe("articles", 5); // from long before this Redis existed
      expect(old.before).toEqual([{ type: "reset", topic: "articles" }]);
      expect(old.ack.type).toBe("subscribed");
      ws.send({ op: "unsubscribe", topic: "articles" });
      const future = await ws.subscribe("articles", old.ack.seq + 1_000_000);
      expect(future.before).toEqual([{ type: "reset", topic: "articles" }]);
      ws.close();
    }
  });

  test("logout on A closes that session's sockets on B and C with 4001; others stay open", async () => {
    const { a, b, c } = nodes();
    const user = await registerUser(a);
    const other = await registerUser(a);
    const onB = await Client.open(`${b.ws}?token=${user.token}`);
    const onC = await Client.open(`${c.ws}?token=${user.token}`);
    const bystander = await Client.open(`${c.ws}?token=${other.token}`);
    for (const ws of [onB, onC, bystander]) expect((await ws.subscribe("feed")).ack.type).toBe("subscribed");
    expect((await a.request("POST", "/api/users/logout", { token: user.token })).status).toBe(204);
    for (const ws of [onB, onC]) expect((await ws.closed).code).toBe(4001);
    await bystander.quiet();
    bystander.close();
  });

  test("a follow made on A moves a live feed on C: the next article of the followee arrives there", async () => {
    const { a, c } = nodes();
    const author = await registerUser(a);
    const reader = await registerUser(a);
    const feed = await Client.open(`${c.ws}?token=${reader.token}`);
    expect((await feed.subscribe("feed")).ack.type).toBe("subscribed");
    await follow(a, reader.token, author.username);
    const article = await createArticle(a, author.token);
    const m = await feed.next();
    expect(m).toMatchObject({ type: "event", topic: "feed", event: "article.created" });
    expect(m.data.article.slug).toBe(article.slug);
    feed.close();
  });

  test("connections per IP are capped for the cluster: the fifth, on any node, is 429", async () => {
    const { a, b, c } = nodes();
    await until(
      () => [a, b, c].every((n) => n.ctx.realtime.stats().connections === 0),
      "earlier sockets to close",
    );
    const open = [
      await Client.open(a.ws),
      await Client.open(a.ws),
      await Client.open(b.ws),
      await Client.open(c.ws),
    ];
    for (const node of [a, b, c]) {
      const res = await refusedUpgrade(node.ws);
      expect(res.status).toBe(429);
      expect(res.body).toEqual({ errors: { realtime: ["too many connections from this address"] } });
    }
    const sse = await fetch(`${b.http}/api/realtime/sse?topics=articles`);
    expect(sse.status).toBe(429);
    open[0]!.close();
    await open[0]!.closed;
    await until(() => a.ctx.realtime.stats().connections === 1, "A to see the close");
    const again = await Client.open(c.ws);
    expect((await again.subscribe("articles")).ack.type).toBe("subscribed");
    for (const ws of [...open.slice(1), again]) ws.close();
  });
});
