/** GET /api/articles?q=: full-text search over title, description, body and tags (src/modules/search). */
import { beforeEach, describe, expect, test } from "bun:test";
import {
  createArticle,
  createTestApp,
  favorite,
  registerUser,
  type TestApp,
  type TestUser,
} from "../helpers/app.ts";

let t: TestApp;
let alice: TestUser;
let bob: TestUser;

beforeEach(async () => {
  t = await createTestApp();
  alice = await registerUser(t);
  bob = await registerUser(t);
});

async function search(query: string, token?: string) {
  const res = await t.request("GET", `/api/articles?${query}`, { token });
  expect(res.status).toBe(200);
  return res.body as {
    articles: { slug: string; title: string; favorited: boolean }[];
    articlesCount: number;
  };
}
const slugs = (body: { articles: { slug: string }[] }) => body.articles.map((a) => a.slug);

describe("what is searched", () => {
  test("title, description, body and tags each match; case and accents do not matter", async () => {
    const inTitle = await createArticle(t, alice.token, { title: "Gardening for beginners" });
    const inDescription = await createArticle(t, alice.token, { description: "All about compost" });
    const inBody = await createArticle(t, alice.token, { body: "Water the tomatoes at dawn." });
    const inTags = await createArticle(t, alice.token, { tagList: ["horticulture"] });
    await createArticle(t, alice.token, { title: "Unrelated", body: "Nothing here" });
    expect(slugs(await search("q=GARDENING"))).toEqual([inTitle.slug]);
    expect(slugs(await search("q=compost"))).toEqual([inDescription.slug]);
    expect(slugs(await search("q=tomatoes"))).toEqual([inBody.slug]);
    expect(slugs(await search("q=horticulture"))).toEqual([inTags.slug]);
    const accented = await createArticle(t, alice.token, { title: "Crème brûlée" });
    expect(slugs(await search("q=creme%20brulee"))).toEqual([accented.slug]);
  });

  test("every word must match, in any column", async () => {
    const both = await createArticle(t, alice.token, { title: "Rust", body: "and sqlite together" });
    await createArticle(t, alice.token, { title: "Rust alone" });
    expect(slugs(await search("q=rust%20sqlite"))).toEqual([both.slug]);
  });

  test("ranked: a title match comes before a body-only match, then newest first", async () => {
    const older = await createArticle(t, alice.token, { title: "Notes", body: "about kayaks, mostly" });
    const title = await createArticle(t, alice.token, { title: "Kayaks", body: "paddles" });
    const newer = await createArticle(t, alice.token, { title: "Diary", body: "about kayaks, mostly" });
    expect(slugs(await search("q=kayaks"))).toEqual([title.slug, newer.slug, older.slug]);
  });

  test("paginated, with the total of all matches", async () => {
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await createArticle(t, alice.token, { body: `common word ${i}` }));
    const page = await search("q=common&limit=2&offset=2");
    expect(page.articlesCount).toBe(5);
    expect(page.articles).toHaveLength(2);
    const all = slugs(await search("q=common&limit=100"));
    expect(all).toHaveLength(5);
    expect(slugs(page)).toEqual(all.slice(2, 4));
    expect(page.articles[0]).not.toHaveProperty("body");
  });

  test("combines with tag, author and favorited", async () => {
    const a1 = await createArticle(t, alice.token, { title: "Bread", tagList: ["baking"] });
    const a2 = await createArticle(t, alice.token, { title: "Bread again" });
    const b1 = await createArticle(t, bob.token, { title: "Bread by bob", tagList: ["baking"] });
    await favorite(t, bob.token, a2.slug);
    expect(slugs(await search("q=bread&tag=baking")).sort()).toEqual([a1.slug, b1.slug].sort());
    expect(slugs(await search(`q=bread&author=${alice.username}`)).sort()).toEqual([a1.slug, a2.slug].sort());
    expect(slugs(await search(`q=bread&favorited=${bob.username}`))).toEqual([a2.slug]);
    expect(slugs(await search(`q=bread&tag=baking&author=${bob.username}`))).toEqual([b1.slug]);
    expect(await search("q=bread&author=nobody-at-all")).toEqual({ articles: [], articlesCount: 0 });
    expect((await search(`q=bread&tag=baking&favorited=${bob.username}`)).articlesCount).toBe(0);
  });

  test("results carry the reader's own flags", async () => {
    const a = await createArticle(t, alice.token, { title: "Flagged" });
    await favorite(t, bob.token, a.slug);
    expect((await search("q=flagged", bob.token)).articles[0]!.favorited).toBe(true);
    expect((await search("q=flagged", alice.token)).articles[0]!.favorited).toBe(false);
    expect((await search("q=flagged")).articles[0]!.favorited).toBe(false);
  });
});

describe("kept in sync", () => {
  test("create, update and delete are reflected at once", async () => {
    expect((await search("q=volcano")).articlesCount).toBe(0);
    const a = await createArticle(t, alice.token, { title: "Volcano trip", tagList: ["travel"] });
    expect(slugs(await search("q=volcano"))).toEqual([a.slug]);
    const res = await t.request("PUT", `/api/articles/${a.slug}`, {
      token: alice.token,
      body: { article: { title: "Glacier trip", tagList: ["ice"] } },
    });
    expect(res.status).toBe(200);
    expect((await search("q=volcano")).articlesCount).toBe(0);
    expect((await search("q=travel")).articlesCount).toBe(0);
    expect(slugs(await search("q=glacier%20ice"))).toEqual([res.body.article.slug]);
    await t.request("DELETE", `/api/articles/${res.body.article.slug}`, { token: alice.token });
    expect((await search("q=glacier")).articlesCount).toBe(0);
  });
});

describe("blank and wordless text", () => {
  test("blank q lists as if absent", async () => {
    await createArticle(t, alice.token);
    await createArticle(t, alice.token);
    const all = await search("");
    expect(await search("q=")).toEqual(all);
    expect(await search("q=%20%20%09")).toEqual(all);
  });

  test("text without a word matches nothing", async () => {
    await createArticle(t, alice.token);
    for (const q of ["***", "%22%22", "()", "--", "%E2%80%8B"]) {
      expect(await search(`q=${q}`)).toEqual({ articles: [], articlesCount: 0 });
    }
  });

  test("longer than 256 characters is a 422 naming q", async () => {
    const res = await t.request("GET", `/api/articles?q=${"a".repeat(257)}`);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ errors: { q: ["is too long (maximum is 256 characters)"] } });
  });

  test("the search parameter is documented in OpenAPI", async () => {
    const res = await t.request("GET", "/openapi/json");
    expect(res.status).toBe(200);
    const params = res.body.paths["/api/articles"].get.parameters as {
      name: string;
      in: string;
      description: string;
      schema: { maxLength: number };
    }[];
    const q = params.find((p) => p.name === "q");
    expect(q).toMatchObject({ in: "query", schema: { maxLength: 256 } });
    expect(q?.description).toContain("Full-text search");
  });
});
