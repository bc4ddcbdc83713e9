/** Favorites (RealWorld §3.14–3.15) and the feed (§3.9). */
import { beforeAll, describe, expect, test } from "bun:test";
import {
  type ApiArticle,
  count,
  createArticle,
  createTestApp,
  envelope,
  favorite,
  follow,
  registerUser,
  type TestApp,
  type TestUser,
  unique,
} from "../helpers/app.ts";

const storedCount = async (t: TestApp, slug: string) =>
  (await t.db.get<{ n: number }>("select favorites_count as n from articles where slug = ?", slug))!.n;

describe("POST/DELETE /api/articles/:slug/favorite", () => {
  let t: TestApp;
  let author: TestUser;
  let fan: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    author = await registerUser(t);
    fan = await registerUser(t);
  });

  test("favorite: 200 with the full article, favorited true, count 1; persisted", async () => {
    const a = await createArticle(t, author.token);
    const res = await t.request("POST", `/api/articles/${a.slug}/favorite`, { token: fan.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ article: { ...a, favorited: true, favoritesCount: 1 } });
    const read = await t.request("GET", `/api/articles/${a.slug}`, { token: fan.token });
    expect(read.body.article).toMatchObject({ favorited: true, favoritesCount: 1 });
    expect(await count(t, "favorites where user_id = ?", fan.id)).toBe(1);
  });

  test("favorite is idempotent; each user counts once", async () => {
    const a = await createArticle(t, author.token);
    await favorite(t, fan.token, a.slug);
    const again = await t.request("POST", `/api/articles/${a.slug}/favorite`, { token: fan.token });
    expect(again.body.article).toMatchObject({ favorited: true, favoritesCount: 1 });
    const byAuthor = await t.request("POST", `/api/articles/${a.slug}/favorite`, { token: author.token });
    expect(byAuthor.body.article).toMatchObject({ favorited: true, favoritesCount: 2 });
    const anon = await t.request("GET", `/api/articles/${a.slug}`);
    expect(anon.body.article).toMatchObject({ favorited: false, favoritesCount: 2 });
  });

  test("unfavorite: 200 favorited false, count 0; idempotent and never negative", async () => {
    const a = await createArticle(t, author.token);
    await favorite(t, fan.token, a.slug);
    const res = await t.request("DELETE", `/api/articles/${a.slug}/favorite`, { token: fan.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ article: { ...a, favorited: false, favoritesCount: 0 } });
    const again = await t.request("DELETE", `/api/articles/${a.slug}/favorite`, { token: fan.token });
    expect(again.status).toBe(200);
    expect(again.body.article.favoritesCount).toBe(0);
    expect(await storedCount(t, a.slug)).toBe(0);
    const read = await t.request("GET", `/api/articles/${a.slug}`, { token: fan.token });
    expect(read.body.article).toMatchObject({ favorited: false, favoritesCount: 0 });
  });

  test("unfavoriting only removes the caller's favorite", async () => {
    const a = await createArticle(t, author.token);
    await favorite(t, fan.token, a.slug);
    await favorite(t, author.token, a.slug);
    const res = await t.request("DELETE", `/api/articles/${a.slug}/favorite`, { token: fan.token });
    expect(res.body.article).toMatchObject({ favorited: false, favoritesCount: 1 });
    const authorView = await t.request("GET", `/api/articles/${a.slug}`, { token: author.token });
    expect(authorView.body.article.favorited).toBe(true);
  });

  test("40 parallel favorites by one user count once; 40 parallel unfavorites leave 0", async () => {
    const a = await createArticle(t, author.token);
    const fav = await Promise.all(
      Array.from({ length: 40 }, () =>
        t.app.handle(t.buildRequest("POST", `/api/articles/${a.slug}/favorite`, { token: fan.token })),
      ),
    );
    expect(fav.map((r) => r.status)).toEqual(Array(40).fill(200));
    expect(await storedCount(t, a.slug)).toBe(1);
    expect(
      await count(t, "favorites where article_id = (select id from articles where slug = ?)", a.slug),
    ).toBe(1);
    const read = await t.request("GET", `/api/articles/${a.slug}`);
    expect(read.body.article.favoritesCount).toBe(1);

    const unfav = await Promise.all(
      Array.from({ length: 40 }, () =>
        t.app.handle(t.buildRequest("DELETE", `/api/articles/${a.slug}/favorite`, { token: fan.token })),
      ),
    );
    expect(unfav.map((r) => r.status)).toEqual(Array(40).fill(200));
    expect(await storedCount(t, a.slug)).toBe(0);
  });

  test("40 different users favoriting in parallel count 40", async () => {
    const a = await createArticle(t, author.token);
    const fans = await Promise.all(Array.from({ length: 40 }, () => registerUser(t)));
    const res = await Promise.all(
      fans.map((f) =>
        t.app.handle(t.buildRequest("POST", `/api/articles/${a.slug}/favorite`, { token: f.token })),
      ),
    );
    expect(res.every((r) => r.status === 200)).toBe(true);
    const read = await t.request("GET", `/api/articles/${a.slug}`);
    expect(read.body.article.favoritesCount).toBe(40);
  });

  test("401 without a token, even for an unknown slug", async () => {
    for (const method of ["POST", "DELETE"]) {
      const res = await t.request(method, "/api/articles/some-slug/favorite");
      expect(res.status).toBe(401);
      expect(res.body).toEqual(envelope("token", "is missing"));
    }
  });

  test("404 article not found for an unknown slug", async () => {
    for (const method of ["POST", "DELETE"]) {
      const res = await t.request(method, `/api/articles/${unique("ghost")}/favorite`, { token: fan.token });
      expect(res.status).toBe(404);
      expect(res.body).toEqual(envelope("article", "not found"));
    }
  });

  test("a body-less favorite sent with Content-Type: application/json and Content-Length: 0 succeeds", async () => {
    // Many front ends put Content-Type: application/json on every request, bodies or not.
    const a = await createArticle(t, author.token);
    const res = await t.request("POST", `/api/articles/${a.slug}/favorite`, {
      token: fan.token,
      body: "",
      headers: { "content-type": "application/json", "content-length": "0" },
    });
    expect(res.status).toBe(200);
    expect(res.body.article.favorited).toBe(true);
  });
});

describe("GET /api/articles/feed", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  test("401 is missing without a token (the feed route wins over /articles/:slug)", async () => {
    const u = await registerUser(t);
    await createArticle(t, u.token, { title: "feed" }); // an article whose slug is literally "feed"
    const res = await t.request("GET", "/api/articles/feed");
    expect(res.status).toBe(401);
    expect(res.body).toEqual(envelope("token", "is missing"));
  });

  test("a user who follows nobody gets an empty feed", async () => {
    const main = await registerUser(t);
    const res = await t.request("GET", "/api/articles/feed", { token: main.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ articles: [], articlesCount: 0 });
  });

  test("only followed authors' articles, newest first, list shape, following true, paginated", async () => {
    const main = await registerUser(t);
    const celeb = await registerUser(t);
    const stranger = await registerUser(t);
    await createArticle(t, stranger.token);
    await createArticle(t, main.token); // one's own articles are not in the feed
    await follow(t, main.token, celeb.username);
    const first = await createArticle(t, celeb.token);
    t.clock.advance(1);
    const second = await createArticle(t, celeb.token);

    const res = await t.request("GET", "/api/articles/feed", { token: main.token });
    expect(res.status).toBe(200);
    expect(res.body.articlesCount).toBe(2);
    expect(res.body.articles.map((a: ApiArticle) => a.slug)).toEqual([second.slug, first.slug]);
    for (const a of res.body.articles) {
      expect(Object.hasOwn(a, "body")).toBe(false);
      expect(a.author).toEqual({ username: celeb.username, bio: null, image: null, following: true });
      expect(a.favorited).toBe(false);
    }

    const p1 = await t.request("GET", "/api/articles/feed?limit=1", { token: main.token });
    expect(p1.body.articles.map((a: ApiArticle) => a.slug)).toEqual([second.slug]);
    expect(p1.body.articlesCount).toBe(2);
    expect(p1.body.articles[0].author.following).toBe(true);
    const p2 = await t.request("GET", "/api/articles/feed?limit=1&offset=1", { token: main.token });
    expect(p2.body.articles.map((a: ApiArticle) => a.slug)).toEqual([first.slug]);
    expect(p2.body.articlesCount).toBe(2);

    // The celebrity's own feed does not include main's article: following is one-way.
    const theirs = await t.request("GET", "/api/articles/feed", { token: celeb.token });
    expect(theirs.body).toEqual({ articles: [], articlesCount: 0 });

    await t.request("DELETE", `/api/profiles/${celeb.username}/follow`, { token: main.token });
    const after = await t.request("GET", "/api/articles/feed", { token: main.token });
    expect(after.body).toEqual({ articles: [], articlesCount: 0 });
  });

  test("the feed shows the viewer's favorited flag", async () => {
    const main = await registerUser(t);
    const celeb = await registerUser(t);
    await follow(t, main.token, celeb.username);
    const a = await createArticle(t, celeb.token);
    await favorite(t, main.token, a.slug);
    const res = await t.request("GET", "/api/articles/feed", { token: main.token });
    expect(res.body.articles[0]).toMatchObject({ slug: a.slug, favorited: true, favoritesCount: 1 });
  });

  test.each([
    ["limit", "abc"],
    ["limit", "-1"],
    ["offset", "-5"],
  ])("422 for %s=%p", async (field, value) => {
    const main = await registerUser(t);
    const res = await t.request("GET", `/api/articles/feed?${field}=${value}`, { token: main.token });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ errors: { [field]: [expect.any(String)] } });
  });
});
