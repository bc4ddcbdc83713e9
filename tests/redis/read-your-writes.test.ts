/**
 * Issue 13, items 3, 5 and 7 on in-process nodes (one SQLite file, one real Redis): a read on node B right
 * after a write acknowledged by node A returns the new state, though B had the old one cached; logout and
 * suspension on one node are 401 on the next request everywhere; a flag changed on one node applies on all.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createArticle, login, registerUser, setRole } from "../helpers/app.ts";
import { clusterReady, type Nodes, startNodes } from "../helpers/nodes.ts";
import { skipWithoutRedis, startRedis, type TestRedis } from "../helpers/redis.ts";

const skip = skipWithoutRedis();

describe.skipIf(skip)("read-your-writes across nodes", () => {
  let redis: TestRedis;
  let cluster: Nodes;
  beforeAll(async () => {
    redis = await startRedis();
    cluster = await startNodes(["A", "B", "C"], redis.url);
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

  test("an article updated on A reads new on B and C at once, though they had it cached", async () => {
    const { a, b, c } = nodes();
    const alice = await registerUser(a);
    const article = await createArticle(a, alice.token, { body: "first" });
    for (const n of [b, c]) {
      expect((await n.request("GET", `/api/articles/${article.slug}`)).body.article.body).toBe("first");
      expect(n.ctx.caches.articles.peek(article.slug)?.article.body).toBe("first"); // really cached
    }
    const put = await a.request("PUT", `/api/articles/${article.slug}`, {
      token: alice.token,
      body: { article: { body: "second" } },
    });
    expect(put.status).toBe(200);
    for (const n of [b, c]) {
      const res = await n.request("GET", `/api/articles/${article.slug}`);
      expect(res.status).toBe(200);
      expect(res.body.article.body).toBe("second");
    }
  });

  test("favorites, lists, tags, profiles, follows and the feed, each cached on B before the write on A", async () => {
    const { a, b } = nodes();
    const author = await registerUser(a);
    const reader = await registerUser(a);
    const tag = `t${Date.now()}`;
    const first = await createArticle(a, author.token, { tagList: [tag] });
    // Warm every cache on B.
    const warm = async () => {
      const res = await Promise.all([
        b.request("GET", `/api/articles/${first.slug}`, { token: reader.token }),
        b.request("GET", `/api/articles?tag=${tag}`),
        b.request("GET", "/api/tags"),
        b.request("GET", `/api/profiles/${author.username}`, { token: reader.token }),
        b.request("GET", "/api/articles/feed", { token: reader.token }),
      ]);
      for (const r of res) expect(r.status).toBe(200);
      return res.map((r) => r.body);
    };
    const [article0, list0, tags0, profile0, feed0] = await warm();
    expect(article0.article).toMatchObject({ favorited: false, favoritesCount: 0 });
    expect(list0.articlesCount).toBe(1);
    expect(tags0.tags).toContain(tag);
    expect(profile0.profile).toMatchObject({ following: false, bio: null });
    expect(feed0.articlesCount).toBe(0);

    expect(
      (await a.request("POST", `/api/articles/${first.slug}/favorite`, { token: reader.token })).status,
    ).toBe(200);
    const tag2 = `${tag}b`;
    await createArticle(a, author.token, { tagList: [tag, tag2] });
    expect(
      (await a.request("POST", `/api/profiles/${author.username}/follow`, { token: reader.token })).status,
    ).toBe(200);
    const bio = await a.request("PUT", "/api/user", {
      token: author.token,
      body: { user: { bio: "new bio" } },
    });
    expect(bio.status).toBe(200);

    const [article1, list1, tags1, profile1, feed1] = await warm();
    expect(article1.article).toMatchObject({ favorited: true, favoritesCount: 1 });
    expect(article1.article.author.bio).toBe("new bio");
    expect(list1.articlesCount).toBe(2);
    expect(tags1.tags).toContain(tag2);
    expect(profile1.profile).toMatchObject({ following: true, bio: "new bio" });
    expect(feed1.articlesCount).toBe(2);
  });

  test("logout on A: the next request with that token on B and C is 401 (their session checks were cached)", async () => {
    const { a, b, c } = nodes();
    const user = await registerUser(a);
    const token = await login(a, user.email, user.password);
    for (const n of [b, c]) expect((await n.request("GET", "/api/user", { token })).status).toBe(200);
    expect(b.ctx.sessions.cache.size).toBeGreaterThan(0);
    expect((await a.request("POST", "/api/users/logout", { token })).status).toBe(204);
    for (const n of [b, c]) {
      const res = await n.request("GET", "/api/user", { token });
      expect(res.status).toBe(401);
    }
    // The other session of the account lives on.
    expect((await b.request("GET", "/api/user", { token: user.token })).status).toBe(200);
  });

  test("logout-all on B and suspension on C: 401 everywhere on the next request", async () => {
    const { a, b, c } = nodes();
    const user = await registerUser(a);
    const second = await login(a, user.email, user.password);
    for (const n of [a, b, c])
      expect((await n.request("GET", "/api/user", { token: second })).status).toBe(200);
    expect((await b.request("POST", "/api/users/logout-all", { token: user.token })).status).toBe(204);
    for (const n of [a, b, c])
      for (const token of [user.token, second])
        expect((await n.request("GET", "/api/user", { token })).status).toBe(401);

    const admin = await registerUser(a);
    await setRole(a, admin.id, "admin");
    const victim = await registerUser(a);
    for (const n of [a, b, c])
      expect((await n.request("GET", "/api/user", { token: victim.token })).status).toBe(200);
    const suspend = await c.request("PATCH", `/api/admin/users/${victim.username}`, {
      token: admin.token,
      body: { suspended: true },
    });
    expect(suspend.status).toBe(200);
    for (const n of [a, b, c])
      expect((await n.request("GET", "/api/user", { token: victim.token })).status).toBe(401);
  });

  test("a feature flag switched on A applies on B and C at once", async () => {
    const { a, b, c } = nodes();
    const admin = await registerUser(a);
    await setRole(a, admin.id, "admin");
    const off = await a.request("PATCH", "/api/admin/flags/registration", {
      token: admin.token,
      body: { enabled: false },
    });
    expect(off.status).toBe(200);
    for (const n of [b, c]) {
      const res = await n.request("POST", "/api/users", {
        body: {
          user: {
            username: `x${Date.now()}${n.name}`,
            email: `x${Date.now()}${n.name}@example.com`,
            password: "correct horse battery",
          },
        },
      });
      expect(res.status).toBe(403);
    }
    const on = await b.request("PATCH", "/api/admin/flags/registration", {
      token: admin.token,
      body: { enabled: true },
    });
    expect(on.status).toBe(200);
    for (const n of [a, c]) expect(n.ctx.flags.isEnabled("registration")).toBe(true);
  });

  test("a write waits for the other nodes' acknowledgements; a member that died delays writes by its TTL at most", async () => {
    const { a, b } = nodes();
    const user = await registerUser(a);
    const before = a.ctx.cluster!.stats();
    // A member that heartbeated once and died: writers wait for it until its membership runs out, then drop it.
    const admin = redis.admin();
    const [secs, micros] = (await admin.send("TIME", [])) as string[];
    const nowMs = Number(secs) * 1000 + Number(micros) / 1000;
    await admin.send("ZADD", [`t${process.pid}:nodes`, String(nowMs + 300), "n-dead"]);
    const slow = await b.request("PUT", "/api/user", { token: user.token, body: { user: { bio: "one" } } });
    expect(slow.status).toBe(200);
    expect(b.ctx.cluster!.stats().ackTimeouts).toBeGreaterThanOrEqual(1);
    // Dropped from the membership: the next write waits for live nodes only.
    await admin.send("ZREM", [`t${process.pid}:nodes`, "n-dead"]);
    const fast = await a.request("PUT", "/api/user", { token: user.token, body: { user: { bio: "two" } } });
    expect(fast.status).toBe(200);
    expect(a.ctx.cluster!.stats().replicated).toBeGreaterThan(before.replicated);
    expect((await b.request("GET", `/api/profiles/${user.username}`)).body.profile.bio).toBe("two");
  });
});
