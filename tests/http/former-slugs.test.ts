/**
 * A renamed article's former slugs redirect to its current one (src/modules/articles/former-slugs.ts): reads
 * 301, writes 308 (method and body kept), one hop for any chain of renames; a live slug wins over a former
 * one; the history goes with the article.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  addComment,
  count,
  createArticle,
  createTestApp,
  envelope,
  registerUser,
  row,
  type TestApp,
  type TestUser,
  unique,
} from "../helpers/app.ts";

let t: TestApp;
let author: TestUser;
let reader: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  author = await registerUser(t);
  reader = await registerUser(t);
});

async function rename(slug: string, title: string): Promise<string> {
  const res = await t.request("PUT", `/api/articles/${encodeURIComponent(slug)}`, {
    token: author.token,
    body: { article: { title } },
  });
  expect(res.status).toBe(200);
  return res.body.article.slug;
}

const formerSlugs = async (slug: string) =>
  (
    await t.db.all<{ slug: string }>(
      "select f.slug from former_slugs f join articles a on a.id = f.article_id where a.slug = ? order by f.slug",
      slug,
    )
  ).map((r) => r.slug);

describe("GET a former slug", () => {
  test("301 to the current slug, with Location, the envelope and no-cache; the article itself is unchanged", async () => {
    const word = unique("w");
    const a = await createArticle(t, author.token, { title: `First ${word}` });
    // Read (and so cache) it under the old slug first: the redirect must not be served stale from the cache.
    expect((await t.request("GET", `/api/articles/${a.slug}`)).status).toBe(200);
    const now = await rename(a.slug, `Second ${word}`);
    expect(now).toBe(`second-${word.toLowerCase().replaceAll("_", "-")}`);

    const res = await t.request("GET", `/api/articles/${a.slug}`);
    expect(res.status).toBe(301);
    expect(res.headers.get("location")).toBe(`/api/articles/${now}`);
    expect(res.headers.get("cache-control")).toContain("no-cache");
    expect(res.headers.get("etag")).toBeNull();
    expect(res.body).toEqual(envelope("article", `has moved to /api/articles/${now}`));

    const current = await t.request("GET", `/api/articles/${now}`);
    expect(current.status).toBe(200);
    expect(current.body.article).toMatchObject({ slug: now, title: `Second ${word}` });
    expect(await formerSlugs(now)).toEqual([a.slug]);
  });

  test("a chain of renames resolves in one hop, from every former slug", async () => {
    const word = unique("chain");
    const a = await createArticle(t, author.token, { title: `One ${word}` });
    const b = await rename(a.slug, `Two ${word}`);
    const c = await rename(b, `Three ${word}`);
    const d = await rename(c, `Four ${word}`);
    for (const old of [a.slug, b, c]) {
      const res = await t.request("GET", `/api/articles/${old}`);
      expect([res.status, res.headers.get("location")]).toEqual([301, `/api/articles/${d}`]);
    }
    expect(await formerSlugs(d)).toEqual([a.slug, b, c].sort());
  });

  test("renaming back to a former slug makes it live again (and the slug it leaves redirects)", async () => {
    const word = unique("back");
    const a = await createArticle(t, author.token, { title: `Alpha ${word}` });
    const b = await rename(a.slug, `Beta ${word}`);
    expect(await rename(b, `Alpha ${word}`)).toBe(a.slug);
    expect((await t.request("GET", `/api/articles/${a.slug}`)).status).toBe(200);
    const res = await t.request("GET", `/api/articles/${b}`);
    expect([res.status, res.headers.get("location")]).toEqual([301, `/api/articles/${a.slug}`]);
    expect(await formerSlugs(a.slug)).toEqual([b]);
  });

  test("comments: 301 to the current slug's comments, keeping the page query", async () => {
    const word = unique("c");
    const a = await createArticle(t, author.token, { title: `Commented ${word}` });
    await addComment(t, reader.token, a.slug, "hello");
    const now = await rename(a.slug, `Recommented ${word}`);
    const res = await t.request("GET", `/api/articles/${a.slug}/comments?limit=5&offset=0`);
    expect(res.status).toBe(301);
    expect(res.headers.get("location")).toBe(`/api/articles/${now}/comments?limit=5&offset=0`);
    const plain = await t.request("GET", `/api/articles/${a.slug}/comments`);
    expect(plain.headers.get("location")).toBe(`/api/articles/${now}/comments`);
  });

  test("an unknown slug is still 404", async () => {
    const res = await t.request("GET", `/api/articles/${unique("never")}`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual(envelope("article", "not found"));
  });
});

describe("writes to a former slug: 308, and nothing changes", () => {
  let old = "";
  let now = "";
  let commentId = 0;
  beforeAll(async () => {
    const word = unique("wr");
    const a = await createArticle(t, author.token, { title: `Write ${word}` });
    commentId = (await addComment(t, reader.token, a.slug, "kept")).id;
    old = a.slug;
    now = await rename(a.slug, `Rewrite ${word}`);
  });

  const cases: [string, string, string, object | undefined, () => TestUser][] = [
    ["PUT", "", "", { article: { body: "changed" } }, () => author],
    ["DELETE", "", "", undefined, () => author],
    ["POST", "/favorite", "/favorite", undefined, () => reader],
    ["DELETE", "/favorite", "/favorite", undefined, () => reader],
    ["POST", "/comments", "/comments", { comment: { body: "new" } }, () => reader],
    ["DELETE", "/comments/:id", "/comments/:id", undefined, () => reader],
  ];
  test.each(cases)(
    "%s …%s → 308 to …%s under the current slug",
    async (method, suffix, target, body, who) => {
      const id = (await row<{ id: number }>(t, "select id from articles where slug = ?", now))!.id;
      const state = async () => ({
        article: await row(t, "select title, body, updated_at from articles where id = ?", id),
        favorites: await count(t, "favorites where article_id = ?", id),
        comments: await count(t, "comments where article_id = ?", id),
      });
      const before = await state();
      const path = (slug: string, s: string) => `/api/articles/${slug}${s.replace(":id", String(commentId))}`;
      const res = await t.request(method, path(old, suffix), { token: who().token, body });
      expect(res.status).toBe(308);
      expect(res.headers.get("location")).toBe(path(now, target));
      expect(res.body).toEqual(envelope("article", `has moved to /api/articles/${now}`));
      expect(await state()).toEqual(before);
    },
  );

  test("401 still comes first", async () => {
    const res = await t.request("PUT", `/api/articles/${old}`, { body: { article: { body: "x" } } });
    expect(res.status).toBe(401);
  });
});

describe("a live slug wins over a former one", () => {
  test("a new article with the old slug takes it; the renamed one keeps its other links", async () => {
    const word = unique("win");
    const first = await createArticle(t, author.token, { title: `Taken ${word}` });
    const renamed = await rename(first.slug, `Moved ${word}`);
    const second = await createArticle(t, reader.token, { title: `Taken ${word}` });
    expect(second.slug).toBe(first.slug);
    const res = await t.request("GET", `/api/articles/${first.slug}`);
    expect(res.status).toBe(200);
    expect(res.body.article).toMatchObject({ slug: first.slug, author: { username: reader.username } });
    expect(await formerSlugs(renamed)).toEqual([]);
    expect(await count(t, "former_slugs where slug = ?", first.slug)).toBe(0);
  });

  test("an article renamed onto another's former slug takes it too", async () => {
    const word = unique("onto");
    const a = await createArticle(t, author.token, { title: `Spot ${word}` });
    await rename(a.slug, `Elsewhere ${word}`);
    const b = await createArticle(t, author.token, { title: `Other ${word}` });
    expect(await rename(b.slug, `Spot ${word}`)).toBe(a.slug);
    expect(await row(t, "select article_id from former_slugs where slug = ?", a.slug)).toBeNull();
    const res = await t.request("GET", `/api/articles/${a.slug}`);
    expect(res.body.article.title).toBe(`Spot ${word}`);
  });
});

describe("deleting the article drops its history", () => {
  test("the former slugs answer 404 afterwards, and their rows are gone", async () => {
    const word = unique("del");
    const a = await createArticle(t, author.token, { title: `Gone ${word}` });
    const b = await rename(a.slug, `Going ${word}`);
    const id = (await row<{ id: number }>(t, "select id from articles where slug = ?", b))!.id;
    expect(await count(t, "former_slugs where article_id = ?", id)).toBe(1);
    expect((await t.request("DELETE", `/api/articles/${b}`, { token: author.token })).status).toBe(204);
    expect(await count(t, "former_slugs where article_id = ?", id)).toBe(0);
    const res = await t.request("GET", `/api/articles/${a.slug}`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual(envelope("article", "not found"));
  });
});

describe("over a real socket, clients follow the redirects", () => {
  let origin = "";
  beforeAll(async () => {
    t.app.listen({ port: 0, hostname: "127.0.0.1" });
    origin = `http://127.0.0.1:${t.app.server!.port}`;
  });
  afterAll(() => t.app.stop(true));

  test("fetch follows the 301 to the article, and the 308 of a PUT with its method and body", async () => {
    const word = unique("net");
    const a = await createArticle(t, author.token, { title: `Привет ${word}` });
    const now = await rename(a.slug, `日本語 ${word}`);
    expect(now).toBe(`日本語-${word.toLowerCase().replaceAll("_", "-")}`);

    const manual = await fetch(`${origin}/api/articles/${a.slug}`, { redirect: "manual" });
    expect(manual.status).toBe(301);
    expect(manual.headers.get("location")).toBe(`/api/articles/${encodeURIComponent(now)}`);

    const read = await fetch(`${origin}/api/articles/${a.slug}`);
    expect(read.status).toBe(200);
    expect(read.redirected).toBe(true);
    expect(((await read.json()) as { article: { slug: string } }).article.slug).toBe(now);

    const put = await fetch(`${origin}/api/articles/${a.slug}`, {
      method: "PUT",
      headers: { authorization: `Token ${author.token}`, "content-type": "application/json" },
      body: JSON.stringify({ article: { body: "followed" } }),
    });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { article: { body: string } }).article.body).toBe("followed");
    expect(await row(t, "select body from articles where slug = ?", now)).toEqual({ body: "followed" });
  });
});
