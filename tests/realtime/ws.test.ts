/** WebSocket topics over a real socket: what a REST write publishes, to whom, in what shape and order. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addComment, createArticle, favorite, registerUser, type TestUser } from "../helpers/app.ts";
import { Client, type Served, serve } from "./helpers.ts";

let s: Served;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  s = await serve();
  alice = await registerUser(s);
  bob = await registerUser(s);
});
afterAll(() => s.stop());

describe("subscribe and receive", () => {
  test("article.created reaches `articles`, the author's profile and each tag, in the list shape", async () => {
    const c = await Client.open(s.ws);
    const subs = await Promise.all(
      ["articles", `profiles:${alice.username}`, "tags:bun"].map(
        async (topic) => (await c.subscribe(topic)).ack,
      ),
    );
    for (const ack of subs) {
      expect(ack.type).toBe("subscribed");
      expect(Number.isSafeInteger(ack.seq)).toBe(true);
    }
    const article = await createArticle(s, alice.token, { title: "Live one", tagList: ["bun", "ws"] });
    const got = await c.take(3);
    expect(got.map((m) => m.topic).sort()).toEqual(
      ["articles", `profiles:${alice.username}`, "tags:bun"].sort(),
    );
    for (const m of got) {
      expect(m).toMatchObject({ type: "event", event: "article.created" });
      expect(m.seq).toBeGreaterThan(subs[0].seq);
      const { body: _body, ...listItem } = article;
      expect(m.data.article).toEqual({
        ...listItem,
        favorited: false,
        author: { ...listItem.author, following: false },
      });
      expect("body" in m.data.article).toBe(false);
      expect(JSON.stringify(m)).not.toContain(alice.email);
      expect(JSON.stringify(m)).not.toContain(alice.token);
    }
    // Seqs only grow within the order of delivery.
    expect(got[0].seq < got[1].seq && got[1].seq < got[2].seq).toBe(true);
    await c.quiet();
    c.close();
  });

  test("articles:<slug> carries comments, favorites (with the count), updates and the deletion", async () => {
    const article = await createArticle(s, alice.token, { title: "Busy article" });
    const c = await Client.open(s.ws);
    const { ack } = await c.subscribe(`articles:${article.slug}`);
    expect(ack).toMatchObject({ type: "subscribed", topic: `articles:${article.slug}` });

    const comment = await addComment(s, bob.token, article.slug, "First!");
    let m = await c.next();
    expect(m).toMatchObject({ type: "event", event: "comment.created", topic: `articles:${article.slug}` });
    expect(m.data.comment).toEqual({
      ...comment,
      author: { username: bob.username, bio: null, image: null, following: false },
    });

    await favorite(s, bob.token, article.slug);
    m = await c.next();
    expect(m.event).toBe("article.favorited");
    expect(m.data.article.favoritesCount).toBe(1);

    const del = await s.request("DELETE", `/api/articles/${article.slug}/comments/${comment.id}`, {
      token: bob.token,
    });
    expect(del.status).toBe(204);
    m = await c.next();
    expect(m).toMatchObject({
      event: "comment.deleted",
      data: { comment: { id: comment.id, body: "First!" } },
    });

    const upd = await s.request("PUT", `/api/articles/${article.slug}`, {
      token: alice.token,
      body: { article: { description: "edited" } },
    });
    expect(upd.status).toBe(200);
    m = await c.next();
    expect(m).toMatchObject({ event: "article.updated", data: { article: { description: "edited" } } });

    const gone = await s.request("DELETE", `/api/articles/${article.slug}`, { token: alice.token });
    expect(gone.status).toBe(204);
    m = await c.next();
    expect(m).toMatchObject({
      event: "article.deleted",
      data: { article: { slug: article.slug, title: "Busy article" } },
    });
    await c.quiet();
    c.close();
  });

  test("a failed write publishes nothing", async () => {
    const c = await Client.open(s.ws);
    await c.subscribe("articles");
    const res = await s.request("POST", "/api/articles", {
      token: alice.token,
      body: { article: { title: "" } },
    });
    expect(res.status).toBe(422);
    await c.quiet();
    c.close();
  });

  test("unsubscribe stops delivery; profiles topics are canonical whatever the case", async () => {
    const c = await Client.open(s.ws);
    const { ack } = await c.subscribe(`profiles:${alice.username.toUpperCase()}`);
    expect(ack.topic).toBe(`profiles:${alice.username}`);
    c.send({ op: "unsubscribe", topic: `profiles:${alice.username.toUpperCase()}` });
    await c.quiet();
    await createArticle(s, alice.token);
    await c.quiet();
    c.send({ op: "unsubscribe", topic: "articles" });
    expect(await c.next()).toMatchObject({ type: "error", code: "not_subscribed", topic: "articles" });
    c.close();
  });

  test("ordering: concurrent writes arrive in one order, the commit order, on every socket", async () => {
    const clients = await Promise.all([1, 2, 3].map(() => Client.open(s.ws)));
    for (const c of clients) await c.subscribe("articles");
    const n = 30;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        createArticle(s, i % 2 ? alice.token : bob.token, { title: `Race ${i}` }),
      ),
    );
    const orders = await Promise.all(clients.map((c) => c.take(n)));
    const slugs = orders.map((o) => o.map((m) => m.data.article.slug));
    expect(slugs[1]).toEqual(slugs[0]!);
    expect(slugs[2]).toEqual(slugs[0]!);
    const seqs = orders[0]!.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(n);
    // On SQLite commit order is id order (units run one after another, ids assigned as they run). Postgres
    // takes ids from a sequence at insert time, so two units may commit in the other order: there the
    // sockets agreeing with each other and with the sequence numbers (above) is the property.
    if (s.engine === "sqlite") {
      const ids: number[] = [];
      for (const slug of slugs[0]!)
        ids.push((await s.db.get<{ id: number }>("select id from articles where slug = ?", slug))!.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
    for (const c of clients) c.close();
  });
});

describe("protocol errors never close the socket", () => {
  test.each([
    ["not JSON", "{nope", { code: "bad_request" }],
    ["a number", "42", { code: "bad_request" }],
    ["unknown op", { op: "publish", topic: "articles" }, { code: "bad_request" }],
    ["no topic", { op: "subscribe" }, { code: "invalid_topic" }],
    ["unknown topic kind", { op: "subscribe", topic: "users" }, { code: "invalid_topic", topic: "users" }],
    ["empty tag", { op: "subscribe", topic: "tags:" }, { code: "invalid_topic" }],
    ["unknown article", { op: "subscribe", topic: "articles:nope" }, { code: "not_found" }],
    ["unknown user", { op: "subscribe", topic: "profiles:nobody-here" }, { code: "not_found" }],
    ["negative since", { op: "subscribe", topic: "articles", since: -1 }, { code: "bad_request" }],
    ["fractional since", { op: "subscribe", topic: "articles", since: 1.5 }, { code: "bad_request" }],
  ])("%s → error", async (_name, message, expected) => {
    const c = await Client.open(s.ws);
    c.send(message);
    const m = await c.next();
    expect(m).toMatchObject({ type: "error", ...expected });
    expect(typeof m.message).toBe("string");
    c.send({ op: "ping" });
    expect(await c.next()).toEqual({ type: "pong" });
    c.close();
  });

  test("subscribing twice is refused, the first subscription stays", async () => {
    const c = await Client.open(s.ws);
    await c.subscribe("articles");
    expect((await c.subscribe("articles")).ack).toMatchObject({ type: "error", code: "already_subscribed" });
    await createArticle(s, alice.token);
    expect(await c.next()).toMatchObject({ type: "event", topic: "articles" });
    await c.quiet();
    c.close();
  });
});

describe("metrics", () => {
  const series = async (name: string, labels = "") => {
    const text = await (await fetch(`${s.http}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
    return Number(line?.split(" ")[1] ?? Number.NaN);
  };

  test("messages in and out and open connections are counted", async () => {
    const inBefore = await series("quire_realtime_messages_total", '{direction="in"}');
    const outBefore = await series("quire_realtime_messages_total", '{direction="out"}');
    const c = await Client.open(s.ws);
    await c.subscribe("articles");
    expect(await series("quire_realtime_connections")).toBeGreaterThanOrEqual(1);
    await createArticle(s, alice.token, { title: "Counted" });
    expect((await c.next()).event).toBe("article.created");
    expect(await series("quire_realtime_messages_total", '{direction="in"}')).toBe(inBefore + 1);
    expect(await series("quire_realtime_messages_total", '{direction="out"}')).toBeGreaterThanOrEqual(
      outBefore + 1,
    );
    c.socket.close();
  });
});
