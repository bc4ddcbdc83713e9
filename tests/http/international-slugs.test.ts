/**
 * Slugs of titles in any script (src/lib/slug.ts): transliterated where the alphabet has an ASCII spelling,
 * the letters kept otherwise, and every route under /api/articles/:slug reachable with the slug
 * percent-encoded (as encodeURIComponent and browsers send it, either hex case), in-process and over a socket.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  createArticle,
  createTestApp,
  registerUser,
  row,
  type TestApp,
  type TestUser,
} from "../helpers/app.ts";

let t: TestApp;
let author: TestUser;
let reader: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  author = await registerUser(t);
  reader = await registerUser(t);
});

describe("slugs say something about their titles", () => {
  test.each([
    ["Привет мир", "privet-mir"],
    ["日本語のタイトル", "日本語のタイトル"],
    ["Ελληνικά και English", "ellinika-kai-english"],
    ["한국어 제목", "한국어-제목"],
    ["हिन्दी भाषा", "हिन्दी-भाषा"],
  ])("%p → %p, stored and answered as such", async (title, slug) => {
    const a = await createArticle(t, author.token, { title });
    expect(a.slug).toBe(slug);
    expect(await row(t, "select title from articles where slug = ?", slug)).toEqual({ title });
  });

  test("the same title again gets the same slug with a suffix", async () => {
    const a = await createArticle(t, author.token, { title: "日本語のタイトル" });
    expect(a.slug).toMatch(/^日本語のタイトル-[0-9a-z]{6}$/);
  });

  test("re-sending the title of a suffixed Unicode slug keeps that slug", async () => {
    const a = await createArticle(t, author.token, { title: "日本語のタイトル" });
    const res = await t.request("PUT", `/api/articles/${encodeURIComponent(a.slug)}`, {
      token: author.token,
      body: { article: { title: "日本語のタイトル", body: "same title" } },
    });
    expect(res.status).toBe(200);
    expect(res.body.article.slug).toBe(a.slug);
  });
});

describe("percent-encoded slugs reach every route", () => {
  const slug = "東京の天気";
  const encodings = {
    encodeURIComponent: encodeURIComponent(slug),
    "lower-case hex": encodeURIComponent(slug).toLowerCase(),
    "raw UTF-8 (the Request encodes it)": slug,
  };
  beforeAll(async () => {
    expect((await createArticle(t, author.token, { title: "東京の天気" })).slug).toBe(slug);
  });

  test.each(Object.entries(encodings))(
    "GET the article, its comments; favorite, comment: %s",
    async (_name, path) => {
      const got = await t.request("GET", `/api/articles/${path}`);
      expect(got.status).toBe(200);
      expect(got.body.article.slug).toBe(slug);
      const comments = await t.request("GET", `/api/articles/${path}/comments`);
      expect(comments.status).toBe(200);
      const fav = await t.request("POST", `/api/articles/${path}/favorite`, { token: reader.token });
      expect(fav.status).toBe(200);
      expect(fav.body.article).toMatchObject({ slug, favorited: true });
      const unfav = await t.request("DELETE", `/api/articles/${path}/favorite`, { token: reader.token });
      expect(unfav.body.article).toMatchObject({ slug, favorited: false, favoritesCount: 0 });
    },
  );

  test("lists and searches show the slug as stored (JSON, not encoded)", async () => {
    const res = await t.request("GET", `/api/articles?author=${author.username}&limit=100`);
    expect(res.body.articles.map((a: { slug: string }) => a.slug)).toContain(slug);
  });

  describe("over a real socket", () => {
    let origin = "";
    beforeAll(async () => {
      t.app.listen({ port: 0, hostname: "127.0.0.1" });
      origin = `http://127.0.0.1:${t.app.server!.port}`;
    });
    afterAll(() => t.app.stop(true));

    test.each(Object.entries(encodings))(
      "GET and POST a comment with the slug as %s",
      async (_name, path) => {
        const got = await fetch(`${origin}/api/articles/${path}`);
        expect(got.status).toBe(200);
        expect(((await got.json()) as { article: { slug: string } }).article.slug).toBe(slug);
        const posted = await fetch(`${origin}/api/articles/${path}/comments`, {
          method: "POST",
          headers: { authorization: `Token ${reader.token}`, "content-type": "application/json" },
          body: JSON.stringify({ comment: { body: `via ${_name}` } }),
        });
        expect(posted.status).toBe(201);
        const id = (await row<{ id: number }>(t, "select id from articles where slug = ?", slug))!.id;
        expect(
          await row(t, "select body from comments where article_id = ? order by id desc limit 1", id),
        ).toEqual({
          body: `via ${_name}`,
        });
      },
    );

    test("a raw request line with the percent-encoded slug", async () => {
      const res = await fetch(`${origin}/api/articles/%E6%9D%B1%E4%BA%AC%E3%81%AE%E5%A4%A9%E6%B0%97`);
      expect(res.status).toBe(200);
    });
  });
});
