/** The SSE fallback: same topics and auth, `id:` = seq, Last-Event-ID resumes every topic of the stream. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createArticle, envelope, follow, registerUser, type TestUser } from "../helpers/app.ts";
import { type Served, serve, sseReader } from "./helpers.ts";

let s: Served;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  s = await serve({ REALTIME_HISTORY_SIZE: "50" });
  [alice, bob] = [await registerUser(s), await registerUser(s)];
});
afterAll(() => s.stop());

const open = (query: string, headers: Record<string, string> = {}) =>
  fetch(`${s.http}/api/realtime/sse?${query}`, { headers });

describe("stream", () => {
  test("subscribed frames, then events as `id: <seq>` + `data: <the WebSocket JSON>`", async () => {
    const res = await open("topics=articles,tags:sse");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(res.headers.get("cache-control")).toContain("no-cache");
    const sse = sseReader(res);
    const acks = [await sse.next(), await sse.next()];
    expect(acks.map((f) => f.data.topic).sort()).toEqual(["articles", "tags:sse"]);
    for (const f of acks) expect(f.id).toBe(String(f.data.seq));
    await createArticle(s, alice.token, { title: "Over SSE", tagList: ["sse"] });
    const events = [await sse.next(), await sse.next()];
    for (const f of events) {
      expect(f.data).toMatchObject({
        type: "event",
        event: "article.created",
        data: { article: { title: "Over SSE" } },
      });
      expect(f.id).toBe(String(f.data.seq));
    }
    expect(Number(events[1]!.id)).toBeGreaterThan(Number(events[0]!.id));
    await sse.cancel();
  });

  test("Last-Event-ID replays the missed events of all topics in one order, then acknowledges", async () => {
    const first = sseReader(await open("topics=articles&topic=tags:resume"));
    const ack = await first.next();
    await first.next();
    await first.cancel();
    await createArticle(s, alice.token, { title: "r1", tagList: ["resume"] });
    await createArticle(s, bob.token, { title: "r2" });
    const again = sseReader(await open("topics=articles&topic=tags:resume", { "last-event-id": ack.id! }));
    const frames = [await again.next(), await again.next(), await again.next()];
    expect(frames.map((f) => [f.data.topic, f.data.data.article.title])).toEqual([
      ["articles", "r1"],
      ["tags:resume", "r1"],
      ["articles", "r2"],
    ]);
    const ids = frames.map((f) => Number(f.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const acks = [await again.next(), await again.next()];
    expect(acks.map((f) => f.data.type)).toEqual(["subscribed", "subscribed"]);
    expect(Number(acks[0]!.id)).toBeGreaterThanOrEqual(ids[2]!);
    await again.cancel();
  });

  test("a Last-Event-ID this server never handed out gets reset for each topic", async () => {
    const sse = sseReader(await open("topics=articles,tags:x", { "last-event-id": "42" }));
    const frames = [await sse.next(), await sse.next()];
    expect(frames.map((f) => f.data)).toEqual([
      { type: "reset", topic: "articles" },
      { type: "reset", topic: "tags:x" },
    ]);
    expect(frames[0]!.id).toBeUndefined();
    expect((await sse.next()).data.type).toBe("subscribed");
    await sse.cancel();
  });
});

describe("auth and validation", () => {
  test("feed: 401 anonymously; a token in Authorization or ?token= streams the viewer's feed", async () => {
    const anon = await open("topics=feed");
    expect(anon.status).toBe(401);
    expect(await anon.json()).toEqual(envelope("token", "is missing"));
    await follow(s, bob.token, alice.username);
    const viaHeader = sseReader(await open("topics=feed", { authorization: `Token ${bob.token}` }));
    const viaQuery = sseReader(await open(`topics=feed&token=${bob.token}`));
    for (const sse of [viaHeader, viaQuery])
      expect((await sse.next()).data).toMatchObject({ type: "subscribed", topic: "feed" });
    await createArticle(s, alice.token, { title: "feed over SSE" });
    for (const sse of [viaHeader, viaQuery]) {
      const f = await sse.next();
      expect(f.data).toMatchObject({
        topic: "feed",
        data: { article: { title: "feed over SSE", author: { following: true } } },
      });
      await sse.cancel();
    }
  });

  test.each([
    ["no topics", "", 422, envelope("topics", "can't be blank")],
    ["an unknown topic", "topics=users", 422, { errors: { topics: [expect.any(String)] } }],
    ["an unknown article", "topics=articles:nope", 404, envelope("topics", "no article has this slug")],
    // A topic name is never echoed back, as a field or otherwise.
    [
      "a topic carrying markup",
      "topics=articles:%3Cscript%3E",
      404,
      envelope("topics", "no article has this slug"),
    ],
    [
      "an overlong topic",
      `topics=tags:${"z".repeat(400)}`,
      422,
      envelope("topics", "has a topic longer than 300 characters"),
    ],
    ["a bad token", "topics=articles&token=nope", 401, envelope("token", "is invalid")],
  ])("%s is refused", async (_name, query, status, body) => {
    const res = await open(query);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual(body);
  });

  test("too many topics and a malformed Last-Event-ID are 422", async () => {
    const many = Array.from({ length: 101 }, (_, i) => `tags:t${i}`).join(",");
    const res = await open(`topics=${many}`);
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual(envelope("topics", "has too many items (maximum is 100)"));
    const bad = await open("topics=articles", { "last-event-id": "abc" });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toEqual(envelope("Last-Event-ID", "is invalid"));
  });

  test("logout ends the session's streams; a cancelled stream is forgotten by the hub", async () => {
    const hub = s.ctx.realtime;
    const before = hub.stats().connections;
    const token = (await registerUser(s)).token;
    const sse = sseReader(await open(`topics=articles&token=${token}`));
    await sse.next();
    expect(hub.stats().connections).toBe(before + 1);
    expect((await s.request("POST", "/api/users/logout", { token })).status).toBe(204);
    expect(await sse.ended()).toBe(true);
    expect(hub.stats().connections).toBe(before);
  });
});
