/**
 * Read-after-write through the content caches: every cached read is made first (so the entry exists), then
 * the write, then the read again, which must show the write. A last group changes the database behind the
 * app's back, to prove the caches really serve (the change is invisible until the TTL passes).
 */
import { beforeEach, describe, expect, test } from "bun:test";
import { cacheStats } from "../../src/modules/cache/index.ts";
import {
  createArticle,
  createTestApp,
  favorite,
  registerUser,
  type TestApp,
  type TestUser,
} from "../helpers/app.ts";

let t: TestApp;
let author: TestUser;
let reader: TestUser;

beforeEach(async () => {
  t = await createTestApp();
  author = await registerUser(t);
  reader = await registerUser(t);
});

const get = async (path: string, token?: string) => {
  const res = await t.request("GET", path, { token });
  expect(res.status).toBe(200);
  return res.body;
};

describe("article by slug", () => {
  test("an update shows at once; a new title moves the slug and the old one redirects, never stale", async () => {
    const a = await createArticle(t, author.token, { title: "First title", body: "old body" });
    expect((await get(`/api/articles/${a.slug}`)).article.body).toBe("old body");
    const res = await t.request("PUT", `/api/articles/${a.slug}`, {
      token: author.token,
      body: { article: { title: "Second title", body: "new body" } },
    });
    expect(res.status).toBe(200);
    const old = await t.request("GET", `/api/articles/${a.slug}`);
    expect([old.status, old.headers.get("location")]).toEqual([
      301,
      `/api/articles/${res.body.article.slug}`,
    ]);
    const now = await get(`/api/articles/${res.body.article.slug}`);
    expect(now.article).toMatchObject({ title: "Second title", body: "new body" });
  });

  test("favourite and unfavourite change favoritesCount for everyone at once", async () => {
    const a = await createArticle(t, author.token);
    expect((await get(`/api/articles/${a.slug}`)).article.favoritesCount).toBe(0);
    await favorite(t, reader.token, a.slug);
    expect((await get(`/api/articles/${a.slug}`)).article.favoritesCount).toBe(1);
    await t.request("DELETE", `/api/articles/${a.slug}/favorite`, { token: reader.token });
    expect((await get(`/api/articles/${a.slug}`)).article.favoritesCount).toBe(0);
  });

  test("a deleted article is gone at once", async () => {
    const a = await createArticle(t, author.token);
    await get(`/api/articles/${a.slug}`);
    expect((await t.request("DELETE", `/api/articles/${a.slug}`, { token: author.token })).status).toBe(204);
    expect((await t.request("GET", `/api/articles/${a.slug}`)).status).toBe(404);
  });

  test("the author's new bio, image and username show in their cached articles", async () => {
    const a = await createArticle(t, author.token);
    await get(`/api/articles/${a.slug}`);
    await get("/api/articles");
    const res = await t.request("PUT", "/api/user", {
      token: author.token,
      body: {
        user: { bio: "New bio", image: "https://example.com/me.png", username: `${author.username}x` },
      },
    });
    expect(res.status).toBe(200);
    const expected = { username: `${author.username}x`, bio: "New bio", image: "https://example.com/me.png" };
    expect((await get(`/api/articles/${a.slug}`)).article.author).toMatchObject(expected);
    expect((await get("/api/articles")).articles[0].author).toMatchObject(expected);
  });
});

describe("profiles", () => {
  test("a profile update shows at once; a renamed user is found only under the new name", async () => {
    expect((await get(`/api/profiles/${author.username}`)).profile.bio).toBeNull();
    const renamed = `${author.username}r`;
    await t.request("PUT", "/api/user", {
      token: author.token,
      body: { user: { bio: "Hi", username: renamed } },
    });
    expect((await t.request("GET", `/api/profiles/${author.username}`)).status).toBe(404);
    expect((await get(`/api/profiles/${renamed}`)).profile).toEqual({
      username: renamed,
      bio: "Hi",
      image: null,
      following: false,
    });
  });

  test("?author= follows a rename: the old name lists nothing, the new one the articles", async () => {
    await createArticle(t, author.token);
    expect((await get(`/api/articles?author=${author.username}`)).articlesCount).toBe(1);
    const renamed = `${author.username}r`;
    await t.request("PUT", "/api/user", { token: author.token, body: { user: { username: renamed } } });
    expect(await get(`/api/articles?author=${author.username}`)).toEqual({ articles: [], articlesCount: 0 });
    expect((await get(`/api/articles?author=${renamed}`)).articlesCount).toBe(1);
  });

  test("a user who signs up after their name was looked up is found", async () => {
    const name = `late${author.id}`;
    expect((await t.request("GET", `/api/profiles/${name}`)).status).toBe(404);
    expect(await get(`/api/articles?author=${name}`)).toEqual({ articles: [], articlesCount: 0 });
    const late = await registerUser(t, { username: name });
    await createArticle(t, late.token);
    expect((await get(`/api/profiles/${name}`)).profile.username).toBe(name);
    expect((await get(`/api/articles?author=${name}`)).articlesCount).toBe(1);
  });
});

describe("list pages and their totals", () => {
  test("create and delete change the first page and the total at once", async () => {
    const first = await createArticle(t, author.token);
    expect(await get("/api/articles")).toMatchObject({ articlesCount: 1 });
    const second = await createArticle(t, author.token);
    const after = await get("/api/articles");
    expect(after.articlesCount).toBe(2);
    expect(after.articles.map((a: { slug: string }) => a.slug)).toEqual([second.slug, first.slug]);
    await t.request("DELETE", `/api/articles/${second.slug}`, { token: author.token });
    const again = await get("/api/articles?limit=1");
    expect(again).toMatchObject({ articlesCount: 1, articles: [{ slug: first.slug }] });
  });

  test("tag lists and tag totals follow create, retag and delete (old tags lose the article)", async () => {
    const a = await createArticle(t, author.token, { tagList: ["alpha"] });
    expect((await get("/api/articles?tag=alpha")).articlesCount).toBe(1);
    expect((await get("/api/articles?tag=beta")).articlesCount).toBe(0);
    expect((await get("/api/tags")).tags).toEqual(["alpha"]);
    await t.request("PUT", `/api/articles/${a.slug}`, {
      token: author.token,
      body: { article: { tagList: ["beta"] } },
    });
    expect((await get("/api/articles?tag=alpha")).articlesCount).toBe(0);
    expect(
      (await get("/api/articles?tag=beta")).articles.map((x: { tagList: string[] }) => x.tagList),
    ).toEqual([["beta"]]);
    expect((await get("/api/tags")).tags).toEqual(["beta"]);
    await t.request("DELETE", `/api/articles/${a.slug}`, { token: author.token });
    expect((await get("/api/articles?tag=beta")).articlesCount).toBe(0);
    expect((await get("/api/tags")).tags).toEqual([]);
  });

  test("?favorited= lists and totals follow favourite, unfavourite and the article's deletion", async () => {
    const a = await createArticle(t, author.token);
    const path = `/api/articles?favorited=${reader.username}`;
    expect((await get(path)).articlesCount).toBe(0);
    await favorite(t, reader.token, a.slug);
    expect(await get(path)).toMatchObject({
      articlesCount: 1,
      articles: [{ slug: a.slug, favoritesCount: 1 }],
    });
    expect((await get("/api/articles")).articles[0].favoritesCount).toBe(1);
    await t.request("DELETE", `/api/articles/${a.slug}`, { token: author.token });
    expect(await get(path)).toEqual({ articles: [], articlesCount: 0 });
  });

  test("a new title shows in cached pages and searches", async () => {
    const a = await createArticle(t, author.token, { title: "Plain words" });
    await get("/api/articles");
    expect((await get("/api/articles?q=zebra")).articlesCount).toBe(0);
    await t.request("PUT", `/api/articles/${a.slug}`, {
      token: author.token,
      body: { article: { title: "Zebra" } },
    });
    expect((await get("/api/articles")).articles[0].title).toBe("Zebra");
    expect((await get("/api/articles?q=zebra")).articlesCount).toBe(1);
  });

  test("the feed follows follow and unfollow at once", async () => {
    await createArticle(t, author.token);
    expect((await get("/api/articles/feed", reader.token)).articlesCount).toBe(0);
    await t.request("POST", `/api/profiles/${author.username}/follow`, { token: reader.token });
    expect((await get("/api/articles/feed", reader.token)).articlesCount).toBe(1);
    await t.request("DELETE", `/api/profiles/${author.username}/follow`, { token: reader.token });
    expect((await get("/api/articles/feed", reader.token)).articlesCount).toBe(0);
  });
});

describe("the caches really serve", () => {
  test("a change made behind the app's back shows only once CACHE_TTL_MS has passed", async () => {
    const a = await createArticle(t, author.token, { title: "Cached", tagList: ["t1"] });
    await get(`/api/articles/${a.slug}`);
    await get("/api/articles");
    await get(`/api/profiles/${author.username}`);
    // Another process (the CLI, say) writes to the same database: no domain event reaches this app.
    await t.db.run("update articles set title = 'Changed elsewhere'");
    await t.db.run("update users set bio = 'changed elsewhere'");
    expect((await get(`/api/articles/${a.slug}`)).article.title).toBe("Cached");
    expect((await get("/api/articles")).articles[0].title).toBe("Cached");
    expect((await get(`/api/profiles/${author.username}`)).profile.bio).toBeNull();
    t.clock.advance(t.ctx.config.CACHE_TTL_MS + 1);
    expect((await get(`/api/articles/${a.slug}`)).article.title).toBe("Changed elsewhere");
    expect((await get("/api/articles")).articles[0].title).toBe("Changed elsewhere");
    expect((await get(`/api/profiles/${author.username}`)).profile.bio).toBe("changed elsewhere");
  });

  test("repeated reads are hits; the counters are exposed for metrics", async () => {
    const a = await createArticle(t, author.token);
    const before = Object.fromEntries(cacheStats(t.ctx.caches).map((s) => [s.name, s]));
    for (let i = 0; i < 3; i++) {
      await get(`/api/articles/${a.slug}`);
      await get("/api/articles");
      await get("/api/tags");
    }
    const after = Object.fromEntries(cacheStats(t.ctx.caches).map((s) => [s.name, s]));
    // The article was loaded (and cached) to answer its creation: all three reads hit.
    const expected: [string, number, number][] = [
      ["articles", 3, 0],
      ["lists", 2, 1],
      ["tags", 2, 1],
    ];
    for (const [name, hits, misses] of expected) {
      const delta = [after[name]!.hits - before[name]!.hits, after[name]!.misses - before[name]!.misses];
      expect(delta).toEqual([hits, misses]);
      expect(after[name]!.entries).toBeGreaterThan(0);
      expect(after[name]!.bytes).toBeGreaterThan(0);
    }
    expect(Object.keys(after).sort()).toEqual(["articles", "counts", "feeds", "lists", "profiles", "tags"]);
    // Session checks keep their own cache (src/modules/sessions/checks.ts), counted the same way.
    expect(t.ctx.sessions.cache.stats()).toMatchObject({ name: "sessions", entries: 1 });
  });

  test("CACHE_TTL_MS=0 turns the caches off and everything still answers", async () => {
    const off = await createTestApp({ CACHE_TTL_MS: "0" });
    const u = await registerUser(off);
    const a = await createArticle(off, u.token, { tagList: ["x"] });
    for (const path of [
      `/api/articles/${a.slug}`,
      "/api/articles",
      "/api/tags",
      `/api/profiles/${u.username}`,
    ]) {
      expect((await off.request("GET", path)).status).toBe(200);
    }
    await off.db.run("update articles set title = 'Seen at once'");
    expect((await off.request("GET", `/api/articles/${a.slug}`)).body.article.title).toBe("Seen at once");
    expect(cacheStats(off.ctx.caches).every((s) => s.entries === 0)).toBe(true);
  });
});
