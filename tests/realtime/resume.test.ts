/** Resuming with `since`: the missed events in order, no gap, no duplicate; `reset` when they are gone. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createArticle, follow, registerUser, type TestUser } from "../helpers/app.ts";
import { Client, type Msg, type Served, serve } from "./helpers.ts";

let s: Served;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;

beforeAll(async () => {
  s = await serve({ REALTIME_HISTORY_SIZE: "5", REALTIME_HISTORY_TTL_SECONDS: "60" });
  [alice, bob, carol] = [await registerUser(s), await registerUser(s), await registerUser(s)];
});
afterAll(() => s.stop());

const titles = (ms: Msg[]) => ms.map((m) => m.data.article.title);

describe("since", () => {
  test("replays what was missed, in order, then acknowledges, then goes live", async () => {
    let c = await Client.open(s.ws);
    const { ack } = await c.subscribe("articles");
    c.close();
    await c.closed;
    for (const title of ["m1", "m2", "m3"]) await createArticle(s, alice.token, { title });

    c = await Client.open(s.ws);
    const resumed = await c.subscribe("articles", ack.seq);
    expect(titles(resumed.before)).toEqual(["m1", "m2", "m3"]);
    const seqs = resumed.before.map((m: Msg) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs[0]).toBeGreaterThan(ack.seq);
    expect(resumed.ack.seq).toBeGreaterThanOrEqual(seqs[2]);
    await createArticle(s, alice.token, { title: "m4" });
    const live = await c.next();
    expect(live.data.article.title).toBe("m4");
    expect(live.seq).toBeGreaterThan(resumed.ack.seq);

    // From the middle: only what came after.
    const d = await Client.open(s.ws);
    const mid = await d.subscribe("articles", seqs[1]);
    expect(titles(mid.before)).toEqual(["m3", "m4"]);
    // From the present: nothing to replay.
    const e = await Client.open(s.ws);
    expect((await e.subscribe("articles", mid.ack.seq)).before).toEqual([]);
    for (const x of [c, d, e]) x.close();
  });

  test("a quiet topic resumes without reset: its position is remembered while nothing happens", async () => {
    const article = await createArticle(s, alice.token);
    let c = await Client.open(s.ws);
    const { ack } = await c.subscribe(`articles:${article.slug}`);
    c.close();
    await c.closed;
    await createArticle(s, bob.token); // other topics move on
    c = await Client.open(s.ws);
    const again = await c.subscribe(`articles:${article.slug}`, ack.seq);
    expect(again.before).toEqual([]);
    expect(again.ack.type).toBe("subscribed");
    c.close();
  });

  test("reset when more than the history (5 per topic) was missed; the kept tail still resumes", async () => {
    const c = await Client.open(s.ws);
    const { ack } = await c.subscribe("articles");
    const seen: Msg[] = [];
    for (let i = 0; i < 7; i++) {
      await createArticle(s, alice.token, { title: `h${i}` });
      seen.push(await c.next());
    }
    const late = await Client.open(s.ws);
    const r = await late.subscribe("articles", ack.seq);
    expect(r.before).toEqual([{ type: "reset", topic: "articles" }]);
    expect(r.ack.type).toBe("subscribed");
    // After reset the subscription is live.
    await createArticle(s, alice.token, { title: "after-reset" });
    expect((await late.next()).data.article.title).toBe("after-reset");
    await c.next();

    const tail = await Client.open(s.ws);
    const t = await tail.subscribe("articles", seen[2].seq);
    expect(titles(t.before)).toEqual(["h3", "h4", "h5", "h6", "after-reset"]);
    for (const x of [c, late, tail]) x.close();
  });

  test("reset when the missed events are older than REALTIME_HISTORY_TTL_SECONDS", async () => {
    const c = await Client.open(s.ws);
    const { ack } = await c.subscribe("tags:ttl");
    await createArticle(s, alice.token, { title: "old", tagList: ["ttl"] });
    await c.next();
    s.clock.advance(61_000);
    const d = await Client.open(s.ws);
    expect((await d.subscribe("tags:ttl", ack.seq)).before).toEqual([{ type: "reset", topic: "tags:ttl" }]);
    for (const x of [c, d]) x.close();
  });

  test("reset for a position this server never handed out (before a restart, or from the future)", async () => {
    const c = await Client.open(s.ws);
    const { ack } = await c.subscribe("articles");
    for (const since of [0, 12345, ack.seq + 1_000_000]) {
      c.send({ op: "unsubscribe", topic: "articles" });
      const r = await c.subscribe("articles", since);
      expect(r.before).toEqual([{ type: "reset", topic: "articles" }]);
    }
    c.close();
  });

  test("no gap and no duplicate when resuming while writes keep coming", async () => {
    const reference = await Client.open(s.ws);
    await reference.subscribe("tags:busy");
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await createArticle(s, i % 2 ? alice.token : bob.token, { title: `busy ${i}`, tagList: ["busy"] });
        await Bun.sleep(1);
      }
    })();
    const got: Msg[] = [];
    let since: number | undefined;
    for (let round = 0; round < 4; round++) {
      const c = await Client.open(s.ws);
      const r = await c.subscribe("tags:busy", since);
      expect(r.before.some((m: Msg) => m.type === "reset")).toBe(false);
      got.push(...r.before);
      since = r.ack.seq;
      for (let i = 0; i < 5; i++) {
        const m = await c.next();
        got.push(m);
        since = m.seq;
      }
      c.close();
      await c.closed;
      await Bun.sleep(5);
    }
    writing = false;
    await writer;
    const first = got[0].seq;
    const last = got.at(-1).seq;
    const expected = reference.received
      .filter((m: Msg) => m.seq >= first && m.seq <= last)
      .map((m: Msg) => m.seq);
    expect(got.map((m) => m.seq)).toEqual(expected);
    expect(expected.length).toBeGreaterThanOrEqual(20);
    reference.close();
  });
});

describe("feed", () => {
  test("live: articles by followed authors only, following applies at once", async () => {
    const c = await Client.open(`${s.ws}?token=${bob.token}`);
    const { ack } = await c.subscribe("feed");
    expect(ack).toMatchObject({ type: "subscribed", topic: "feed" });
    await createArticle(s, alice.token, { title: "not followed yet" });
    await c.quiet();
    await follow(s, bob.token, alice.username);
    await createArticle(s, alice.token, { title: "followed" });
    await createArticle(s, carol.token, { title: "carol's" });
    const m = await c.next();
    expect(m).toMatchObject({ type: "event", topic: "feed", event: "article.created" });
    expect(m.data.article.title).toBe("followed");
    expect(m.data.article.author).toMatchObject({ username: alice.username, following: true });
    await c.quiet();
    const res = await s.request("DELETE", `/api/profiles/${alice.username}/follow`, { token: bob.token });
    expect(res.status).toBe(200);
    await createArticle(s, alice.token, { title: "unfollowed" });
    await c.quiet();
    c.close();
  });

  test("resume replays only the followed authors' articles", async () => {
    await follow(s, carol.token, alice.username);
    let c = await Client.open(`${s.ws}?token=${carol.token}`);
    const { ack } = await c.subscribe("feed");
    c.close();
    await c.closed;
    await createArticle(s, alice.token, { title: "for carol" });
    await createArticle(s, bob.token, { title: "not for carol" });
    c = await Client.open(`${s.ws}?token=${carol.token}`);
    const r = await c.subscribe("feed", ack.seq);
    expect(titles(r.before)).toEqual(["for carol"]);
    c.close();
  });
});
