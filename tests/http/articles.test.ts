/** Create, read, update and delete articles (RealWorld §3.10–3.13). Lists live in articles-list.test.ts. */
import { beforeAll, describe, expect, test } from "bun:test";
import {
  addComment,
  count,
  createArticle,
  createTestApp,
  envelope,
  favorite,
  registerUser,
  row,
  type TestApp,
  type TestUser,
  unique,
} from "../helpers/app.ts";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const articleRow = (t: TestApp, slug: string) =>
  row<{ id: number; title: string; description: string; body: string; updated_at: number }>(
    t,
    "select id, title, description, body, updated_at from articles where slug = ?",
    slug,
  );

describe("POST /api/articles", () => {
  let t: TestApp;
  let author: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    author = await registerUser(t);
  });

  test("201 with the full article: echoed fields, tags sorted, timestamps from the clock", async () => {
    const title = `Test Article ${unique()}`;
    const res = await t.request("POST", "/api/articles", {
      token: author.token,
      body: { article: { title, description: "Desc", body: "Body text", tagList: ["zeta", "alpha"] } },
    });
    expect(res.status).toBe(201);
    const now = new Date(t.clock.now()).toISOString();
    expect(res.body).toEqual({
      article: {
        slug: expect.any(String),
        title,
        description: "Desc",
        body: "Body text",
        tagList: ["alpha", "zeta"],
        createdAt: now,
        updatedAt: now,
        favorited: false,
        favoritesCount: 0,
        author: { username: author.username, bio: null, image: null, following: false },
      },
    });
    expect(res.body.article.slug).toMatch(/^[a-z0-9-]+$/);
    expect(await articleRow(t, res.body.article.slug)).toMatchObject({ title, body: "Body text" });
  });

  test("tagList omitted or [] gives []", async () => {
    for (const extra of [{}, { tagList: [] }]) {
      const res = await t.request("POST", "/api/articles", {
        token: author.token,
        body: { article: { title: unique("T"), description: "d", body: "b", ...extra } },
      });
      expect(res.status).toBe(201);
      expect(res.body.article.tagList).toEqual([]);
    }
  });

  test("tags are trimmed, de-duplicated and sorted", async () => {
    const a = await createArticle(t, author.token, { tagList: ["b", " a ", "b", "a", "c"] });
    expect(a.tagList).toEqual(["a", "b", "c"]);
    const again = await t.request("GET", `/api/articles/${a.slug}`);
    expect(again.body.article.tagList).toEqual(["a", "b", "c"]);
  });

  test("422 tagList null on create; nothing created", async () => {
    const before = await count(t, "articles");
    const res = await t.request("POST", "/api/articles", {
      token: author.token,
      body: { article: { title: unique("T"), description: "d", body: "b", tagList: null } },
    });
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.errors)).toEqual(["tagList"]);
    expect(await count(t, "articles")).toBe(before);
  });

  test.each(["title", "description", "body"])("422 %s can't be blank; nothing created", async (field) => {
    const before = await count(t, "articles");
    const article = { title: unique("T"), description: "d", body: "b", [field]: "" };
    const res = await t.request("POST", "/api/articles", { token: author.token, body: { article } });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(envelope(field, "can't be blank"));
    expect(await count(t, "articles")).toBe(before);
  });

  test("422 when a required field is missing", async () => {
    const res = await t.request("POST", "/api/articles", {
      token: author.token,
      body: { article: { title: unique("T") } },
    });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ errors: { description: ["can't be blank"], body: ["can't be blank"] } });
  });

  test("duplicate titles are allowed and get distinct slugs", async () => {
    const title = `Same Title ${unique()}`;
    const first = await createArticle(t, author.token, { title });
    const second = await createArticle(t, author.token, { title });
    const third = await createArticle(t, author.token, { title });
    expect(new Set([first.slug, second.slug, third.slug]).size).toBe(3);
    expect(second.slug).toStartWith(`${first.slug}-`);
    for (const a of [first, second, third]) {
      const res = await t.request("GET", `/api/articles/${a.slug}`);
      expect(res.status).toBe(200);
      expect(res.body.article.title).toBe(title);
    }
  });

  test("slugs are URL-path-safe whatever the title (tests/http/international-slugs.test.ts for scripts)", async () => {
    const accented = await createArticle(t, author.token, { title: "Héllo, Wörld! ?/#%" });
    expect(accented.slug).toMatch(/^hello-woerld(-[a-z0-9]+)?$/);
    const symbols = await createArticle(t, author.token, { title: "!!! ??? ###" });
    expect(symbols.slug).toMatch(/^article(-[a-z0-9]+)?$/);
    const cjk = await createArticle(t, author.token, { title: "日本語のタイトル ?/#%." });
    expect(cjk.slug).toMatch(/^日本語のタイトル(-[a-z0-9]+)?$/);
    const res = await t.request("GET", `/api/articles/${encodeURIComponent(cjk.slug)}`);
    expect(res.body.article.title).toBe("日本語のタイトル ?/#%.");
  });

  test("401 is missing without a token; nothing created", async () => {
    const before = await count(t, "articles");
    const res = await t.request("POST", "/api/articles", {
      body: { article: { title: "x", description: "d", body: "b" } },
    });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(envelope("token", "is missing"));
    expect(await count(t, "articles")).toBe(before);
  });
});

describe("GET /api/articles/:slug", () => {
  let t: TestApp;
  let author: TestUser;
  let reader: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    author = await registerUser(t);
    reader = await registerUser(t);
  });

  test("200 with body, favorited false and the author's profile", async () => {
    const a = await createArticle(t, author.token, { tagList: ["x"] });
    const res = await t.request("GET", `/api/articles/${a.slug}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ article: a });
  });

  test("an optional token is honoured: favorited and author.following reflect the reader", async () => {
    const a = await createArticle(t, author.token);
    await favorite(t, reader.token, a.slug);
    await t.request("POST", `/api/profiles/${author.username}/follow`, { token: reader.token });
    const res = await t.request("GET", `/api/articles/${a.slug}`, { token: reader.token });
    expect(res.body.article).toMatchObject({
      favorited: true,
      favoritesCount: 1,
      author: { username: author.username, following: true },
    });
    const anon = await t.request("GET", `/api/articles/${a.slug}`);
    expect(anon.body.article).toMatchObject({
      favorited: false,
      favoritesCount: 1,
      author: { following: false },
    });
  });

  test("404 article not found for an unknown slug", async () => {
    const res = await t.request("GET", `/api/articles/${unique("no-such-slug")}`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual(envelope("article", "not found"));
  });

  test("401 is invalid for a bad token, even on a public read", async () => {
    const a = await createArticle(t, author.token);
    const res = await t.request("GET", `/api/articles/${a.slug}`, { token: "nope" });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(envelope("token", "is invalid"));
  });
});

describe("PUT /api/articles/:slug", () => {
  let t: TestApp;
  let author: TestUser;
  let other: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    author = await registerUser(t);
    other = await registerUser(t);
  });

  test("a body-only update keeps title, description, slug, tags and createdAt; updatedAt moves", async () => {
    const created = await createArticle(t, author.token, { tagList: ["d1", "t1"] });
    t.clock.advance(1500);
    const res = await t.request("PUT", `/api/articles/${created.slug}`, {
      token: author.token,
      body: { article: { body: "Updated body content" } },
    });
    expect(res.status).toBe(200);
    expect(res.body.article).toEqual({
      ...created,
      body: "Updated body content",
      updatedAt: new Date(t.clock.now()).toISOString(),
    });
    expect(res.body.article.createdAt).toBe(created.createdAt);
    expect(res.body.article.updatedAt).not.toBe(created.updatedAt);
    expect(res.body.article.updatedAt).toMatch(ISO);

    const read = await t.request("GET", `/api/articles/${created.slug}`);
    expect(read.body.article).toEqual(res.body.article);
  });

  test("updatedAt moves forward even within the same millisecond as the create", async () => {
    const created = await createArticle(t, author.token);
    const res = await t.request("PUT", `/api/articles/${created.slug}`, {
      token: author.token,
      body: { article: { description: "new" } },
    });
    expect(res.status).toBe(200);
    expect(res.body.article.createdAt).toBe(created.createdAt);
    expect(Date.parse(res.body.article.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
  });

  test("tagList [] removes every tag (persisted); omitted keeps them", async () => {
    const created = await createArticle(t, author.token, { tagList: ["keep1", "keep2"] });
    const kept = await t.request("PUT", `/api/articles/${created.slug}`, {
      token: author.token,
      body: { article: { body: "b2" } },
    });
    expect(kept.body.article.tagList).toEqual(["keep1", "keep2"]);
    const cleared = await t.request("PUT", `/api/articles/${created.slug}`, {
      token: author.token,
      body: { article: { tagList: [] } },
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body.article.tagList).toEqual([]);
    const read = await t.request("GET", `/api/articles/${created.slug}`);
    expect(read.body.article.tagList).toEqual([]);
    expect(await count(t, "article_tags where article_id = ?", (await articleRow(t, created.slug))!.id)).toBe(
      0,
    );
  });

  test("a replaced tagList is sorted too", async () => {
    const created = await createArticle(t, author.token, { tagList: ["a", "b"] });
    const res = await t.request("PUT", `/api/articles/${created.slug}`, {
      token: author.token,
      body: { article: { tagList: ["c", "b"] } },
    });
    expect(res.body.article.tagList).toEqual(["b", "c"]);
    expect((await t.request("GET", `/api/articles/${created.slug}`)).body.article.tagList).toEqual([
      "b",
      "c",
    ]);
  });

  test("422 tagList null, and the tags are unchanged", async () => {
    const created = await createArticle(t, author.token, { tagList: ["x1", "x2"] });
    const res = await t.request("PUT", `/api/articles/${created.slug}`, {
      token: author.token,
      body: { article: { tagList: null } },
    });
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.errors)).toEqual(["tagList"]);
    const read = await t.request("GET", `/api/articles/${created.slug}`);
    expect(read.body.article).toEqual(created);
  });

  test.each(["title", "description", "body"])("422 %s blank on update; unchanged", async (field) => {
    const created = await createArticle(t, author.token);
    const before = await articleRow(t, created.slug);
    const res = await t.request("PUT", `/api/articles/${created.slug}`, {
      token: author.token,
      body: { article: { [field]: "" } },
    });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(envelope(field, "can't be blank"));
    expect(await articleRow(t, created.slug)).toEqual(before);
  });

  test("a new title gives a new slug; the old slug redirects to it (tests/http/former-slugs.test.ts)", async () => {
    const created = await createArticle(t, author.token, { title: `Old Title ${unique()}` });
    const title = `New Title ${unique()}`;
    const res = await t.request("PUT", `/api/articles/${created.slug}`, {
      token: author.token,
      body: { article: { title } },
    });
    expect(res.status).toBe(200);
    expect(res.body.article.title).toBe(title);
    expect(res.body.article.slug).not.toBe(created.slug);
    expect((await t.request("GET", `/api/articles/${res.body.article.slug}`)).status).toBe(200);
    const old = await t.request("GET", `/api/articles/${created.slug}`);
    expect(old.status).toBe(301);
    expect(old.headers.get("location")).toBe(`/api/articles/${res.body.article.slug}`);
  });

  test("re-sending the same title keeps the slug", async () => {
    const created = await createArticle(t, author.token);
    const res = await t.request("PUT", `/api/articles/${created.slug}`, {
      token: author.token,
      body: { article: { title: created.title } },
    });
    expect(res.body.article.slug).toBe(created.slug);
  });

  test("401 without a token comes before 404 (some-slug)", async () => {
    const res = await t.request("PUT", "/api/articles/some-slug", { body: { article: { body: "x" } } });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(envelope("token", "is missing"));
  });

  test("404 for an unknown slug with a token", async () => {
    const res = await t.request("PUT", `/api/articles/${unique("missing")}`, {
      token: author.token,
      body: { article: { body: "x" } },
    });
    expect(res.status).toBe(404);
    expect(res.body).toEqual(envelope("article", "not found"));
  });

  test("403 for someone else's article, and the article is unchanged", async () => {
    const created = await createArticle(t, author.token);
    const before = await articleRow(t, created.slug);
    const res = await t.request("PUT", `/api/articles/${created.slug}`, {
      token: other.token,
      body: { article: { body: "hijacked", title: "Hijacked" } },
    });
    expect(res.status).toBe(403);
    expect(res.body).toEqual(envelope("article", "forbidden"));
    expect(await articleRow(t, created.slug)).toEqual(before);
  });

  test("403 comes before 422 when the caller is not the author", async () => {
    const created = await createArticle(t, author.token);
    const res = await t.request("PUT", `/api/articles/${created.slug}`, {
      token: other.token,
      body: { article: { body: "ok" } },
    });
    expect(res.status).toBe(403);
  });
});

describe("DELETE /api/articles/:slug", () => {
  let t: TestApp;
  let author: TestUser;
  let other: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    author = await registerUser(t);
    other = await registerUser(t);
  });

  test("204 with no body; afterwards 404", async () => {
    const a = await createArticle(t, author.token);
    const res = await t.request("DELETE", `/api/articles/${a.slug}`, { token: author.token });
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    const read = await t.request("GET", `/api/articles/${a.slug}`);
    expect(read.status).toBe(404);
    expect(read.body).toEqual(envelope("article", "not found"));
    expect(await articleRow(t, a.slug)).toBeNull();
  });

  test("cascades to comments, favorites and tag links; other articles keep theirs", async () => {
    const tag = unique("cascade");
    const doomed = await createArticle(t, author.token, { tagList: [tag] });
    const kept = await createArticle(t, author.token, { tagList: ["shared-tag"] });
    await addComment(t, author.token, doomed.slug, "first");
    await addComment(t, other.token, doomed.slug, "second");
    await addComment(t, other.token, kept.slug, "on the kept one");
    await favorite(t, other.token, doomed.slug);
    await favorite(t, other.token, kept.slug);
    const id = (await articleRow(t, doomed.slug))!.id;
    const keptId = (await articleRow(t, kept.slug))!.id;

    const res = await t.request("DELETE", `/api/articles/${doomed.slug}`, { token: author.token });
    expect(res.status).toBe(204);
    expect(await count(t, "comments where article_id = ?", id)).toBe(0);
    expect(await count(t, "favorites where article_id = ?", id)).toBe(0);
    expect(await count(t, "article_tags where article_id = ?", id)).toBe(0);
    expect(await count(t, "comments where article_id = ?", keptId)).toBe(1);
    expect(await count(t, "favorites where article_id = ?", keptId)).toBe(1);
    const tags = await t.request("GET", "/api/tags");
    expect(tags.body.tags).not.toContain(tag);
    expect(tags.body.tags).toContain("shared-tag");
    const favs = await t.request("GET", `/api/articles?favorited=${other.username}`);
    expect(favs.body.articles.map((a: { slug: string }) => a.slug)).toEqual([kept.slug]);
  });

  test("401 without a token before 404 (some-slug)", async () => {
    const res = await t.request("DELETE", "/api/articles/some-slug");
    expect(res.status).toBe(401);
    expect(res.body).toEqual(envelope("token", "is missing"));
  });

  test("404 for an unknown slug", async () => {
    const res = await t.request("DELETE", `/api/articles/${unique("nope")}`, { token: author.token });
    expect(res.status).toBe(404);
    expect(res.body).toEqual(envelope("article", "not found"));
  });

  test("403 for someone else's article; it still exists and its author can delete it", async () => {
    const a = await createArticle(t, author.token);
    await addComment(t, author.token, a.slug);
    const res = await t.request("DELETE", `/api/articles/${a.slug}`, { token: other.token });
    expect(res.status).toBe(403);
    expect(res.body).toEqual(envelope("article", "forbidden"));
    expect((await t.request("GET", `/api/articles/${a.slug}`)).status).toBe(200);
    expect(await count(t, "comments where article_id = ?", (await articleRow(t, a.slug))!.id)).toBe(1);
    const mine = await t.request("DELETE", `/api/articles/${a.slug}`, { token: author.token });
    expect(mine.status).toBe(204);
  });
});
