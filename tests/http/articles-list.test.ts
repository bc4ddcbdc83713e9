/** GET /api/articles: shape, order, filters, counts and pagination (RealWorld §3.8). */
import { beforeAll, describe, expect, test } from "bun:test";
import { createArticle as createArticleDirect } from "../../src/modules/articles/service.ts";
import {
  type ApiArticle,
  createArticle,
  createTestApp,
  favorite,
  follow,
  registerUser,
  type TestApp,
  type TestUser,
  unique,
} from "../helpers/app.ts";

const slugs = (res: { body: { articles: ApiArticle[] } }) => res.body.articles.map((a: ApiArticle) => a.slug);

describe("list shape and order", () => {
  let t: TestApp;
  let author: TestUser;
  let reader: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    author = await registerUser(t);
    reader = await registerUser(t);
  });

  test("empty database: 200 with [] and 0", async () => {
    const res = await t.request("GET", "/api/articles");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ articles: [], articlesCount: 0 });
  });

  test("items carry every field except body (absent, not null)", async () => {
    const a = await createArticle(t, author.token, { tagList: ["one", "two"] });
    const res = await t.request("GET", "/api/articles");
    expect(res.status).toBe(200);
    const item = res.body.articles.find((x: ApiArticle) => x.slug === a.slug);
    const { body: _body, ...withoutBody } = a;
    expect(item).toEqual(withoutBody);
    for (const x of res.body.articles) expect(Object.hasOwn(x, "body")).toBe(false);
    expect(Number.isInteger(res.body.articlesCount)).toBe(true);
  });

  test("newest first; articles created in the same millisecond fall back to id order", async () => {
    const a1 = await createArticle(t, author.token);
    t.clock.advance(10);
    const a2 = await createArticle(t, author.token);
    // Same millisecond: the clock does not move between these two.
    const a3 = await createArticle(t, author.token);
    const a4 = await createArticle(t, author.token);
    expect(a3.createdAt).toBe(a4.createdAt);
    const res = await t.request("GET", `/api/articles?author=${author.username}&limit=4`);
    expect(slugs(res)).toEqual([a4.slug, a3.slug, a2.slug, a1.slug]);
  });

  test("favorited and author.following are the viewer's; false for anonymous readers", async () => {
    const a = await createArticle(t, author.token);
    await favorite(t, reader.token, a.slug);
    await follow(t, reader.token, author.username);
    const mine = await t.request("GET", `/api/articles?author=${author.username}`, { token: reader.token });
    const item = mine.body.articles.find((x: ApiArticle) => x.slug === a.slug);
    expect(item).toMatchObject({ favorited: true, favoritesCount: 1, author: { following: true } });
    const others = mine.body.articles.filter((x: ApiArticle) => x.slug !== a.slug);
    for (const x of others) expect(x.favorited).toBe(false);

    const anon = await t.request("GET", `/api/articles?author=${author.username}`);
    const anonItem = anon.body.articles.find((x: ApiArticle) => x.slug === a.slug);
    expect(anonItem).toMatchObject({ favorited: false, favoritesCount: 1, author: { following: false } });
  });

  test("401 is invalid for a bad token (optional auth is not ignored)", async () => {
    const res = await t.request("GET", "/api/articles", { token: "x.y.z" });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: { token: ["is invalid"] } });
  });
});

describe("filters", () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  const s: Record<string, string> = {};
  const tag = unique("tag");
  const other = unique("other");

  beforeAll(async () => {
    t = await createTestApp();
    alice = await registerUser(t);
    bob = await registerUser(t);
    carol = await registerUser(t);
    // alice: a1 [tag, other], a2 [other]; bob: b1 [tag], b2 []. carol favorites a1 and b1; bob favorites a2.
    s.a1 = (await createArticle(t, alice.token, { tagList: [tag, other] })).slug;
    s.a2 = (await createArticle(t, alice.token, { tagList: [other] })).slug;
    s.b1 = (await createArticle(t, bob.token, { tagList: [tag] })).slug;
    s.b2 = (await createArticle(t, bob.token)).slug;
    await favorite(t, carol.token, s.a1!);
    await favorite(t, carol.token, s.b1!);
    await favorite(t, bob.token, s.a2!);
  });

  const list = async (query: string) => {
    const res = await t.request("GET", `/api/articles?${query}`);
    expect(res.status).toBe(200);
    for (const a of res.body.articles) expect(Object.hasOwn(a, "body")).toBe(false);
    return res;
  };

  test("tag: only tagged articles, each with its full tagList", async () => {
    const res = await list(`tag=${tag}`);
    expect(slugs(res)).toEqual([s.b1, s.a1]);
    expect(res.body.articlesCount).toBe(2);
    expect(res.body.articles[1].tagList).toEqual([other, tag]);
  });

  test("author: only that author's articles (username matched regardless of case)", async () => {
    const res = await list(`author=${alice.username}`);
    expect(slugs(res)).toEqual([s.a2, s.a1]);
    expect(res.body.articlesCount).toBe(2);
    for (const a of res.body.articles) expect(a.author.username).toBe(alice.username);
    const upper = await list(`author=${alice.username.toUpperCase()}`);
    expect(slugs(upper)).toEqual([s.a2, s.a1]);
  });

  test("favorited: only articles that user favorited", async () => {
    const res = await list(`favorited=${carol.username}`);
    expect(slugs(res)).toEqual([s.b1, s.a1]);
    expect(res.body.articlesCount).toBe(2);
    for (const a of res.body.articles) expect(a.favoritesCount).toBeGreaterThanOrEqual(1);
  });

  test("filters combine (AND)", async () => {
    expect(slugs(await list(`tag=${tag}&author=${alice.username}`))).toEqual([s.a1]);
    expect(slugs(await list(`author=${bob.username}&favorited=${carol.username}`))).toEqual([s.b1]);
    expect(slugs(await list(`tag=${other}&favorited=${bob.username}`))).toEqual([s.a2]);
    const all3 = await list(`tag=${tag}&author=${bob.username}&favorited=${carol.username}`);
    expect(slugs(all3)).toEqual([s.b1]);
    expect(all3.body.articlesCount).toBe(1);
    const none = await list(`tag=${other}&author=${bob.username}`);
    expect(none.body).toEqual({ articles: [], articlesCount: 0 });
  });

  test("unknown tag, author or favorited user: empty list, not 404", async () => {
    for (const q of [
      `tag=${unique("nope")}`,
      `author=${unique("nobody")}`,
      `favorited=${unique("nobody")}`,
    ]) {
      const res = await list(q);
      expect(res.body).toEqual({ articles: [], articlesCount: 0 });
    }
  });

  test("articlesCount is the filtered total, not the page length", async () => {
    const res = await list(`author=${alice.username}&limit=1`);
    expect(res.body.articles).toHaveLength(1);
    expect(res.body.articlesCount).toBe(2);
    const all = await list("limit=1");
    expect(all.body.articlesCount).toBe(4);
  });
});

describe("pagination", () => {
  let t: TestApp;
  let author: TestUser;
  const ordered: string[] = []; // newest first

  beforeAll(async () => {
    t = await createTestApp();
    author = await registerUser(t);
    // 105 articles straight through the service (the HTTP layer is covered elsewhere).
    const viewer = { id: author.id, role: "editor" as const, emailVerified: true };
    for (let i = 0; i < 105; i++) {
      const { article } = await createArticleDirect(t.ctx, viewer, {
        title: `Bulk ${i}`,
        description: "d",
        body: "b",
      });
      ordered.unshift(article.slug);
    }
  });

  test("default page is 20, newest first", async () => {
    const res = await t.request("GET", "/api/articles");
    expect(res.body.articles).toHaveLength(20);
    expect(res.body.articlesCount).toBe(105);
    expect(slugs(res)).toEqual(ordered.slice(0, 20));
  });

  test("limit and offset select the expected window", async () => {
    const res = await t.request("GET", "/api/articles?limit=3&offset=2");
    expect(res.status).toBe(200);
    expect(slugs(res)).toEqual(ordered.slice(2, 5));
    expect(res.body.articlesCount).toBe(105);
    const p1 = await t.request("GET", `/api/articles?author=${author.username}&limit=1`);
    const p2 = await t.request("GET", `/api/articles?author=${author.username}&limit=1&offset=1`);
    expect(slugs(p1)).toEqual([ordered[0]]);
    expect(slugs(p2)).toEqual([ordered[1]]);
  });

  test("an offset past the end gives an empty page with the full count", async () => {
    const res = await t.request("GET", "/api/articles?offset=500");
    expect(res.body).toEqual({ articles: [], articlesCount: 105 });
    const tail = await t.request("GET", "/api/articles?limit=10&offset=100");
    expect(slugs(tail)).toEqual(ordered.slice(100));
  });

  test("limit is capped at 100", async () => {
    for (const limit of ["100", "101", "1000", "999999999"]) {
      const res = await t.request("GET", `/api/articles?limit=${limit}`);
      expect(res.status).toBe(200);
      expect(res.body.articles).toHaveLength(100);
      expect(res.body.articlesCount).toBe(105);
    }
  });

  test.each([
    ["limit", "abc"],
    ["limit", "-1"],
    ["limit", "1.5"],
    ["limit", "0"],
    ["limit", "99999999999999999999"],
    ["offset", "-1"],
    ["offset", "x"],
    ["offset", "2.5"],
  ])("422 naming the field for %s=%p", async (field, value) => {
    const res = await t.request("GET", `/api/articles?${field}=${value}`);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ errors: { [field]: [expect.any(String)] } });
  });
});
