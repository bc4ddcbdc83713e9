/**
 * Hostile search text: FTS5 syntax, quotes, operators, column filters, odd Unicode and long input are
 * answered (200 with a well-formed list, or 422 past the length limit), never a 500 and never
 * interpreted as FTS5 syntax.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { toFtsQuery } from "../../src/infra/sqlite/repos/search.ts";
import { MAX_TERM_CHARS, MAX_TERMS, searchTerms } from "../../src/lib/search-terms.ts";
import { createArticle, createTestApp, registerUser, type TestApp } from "../helpers/app.ts";

let t: TestApp;
let slugs: Record<string, string>;

beforeAll(async () => {
  t = await createTestApp();
  const u = await registerUser(t);
  slugs = {
    near: (await createArticle(t, u.token, { title: "near the title", body: "or and not" })).slug,
    quote: (await createArticle(t, u.token, { title: "She said hello", description: "quotes" })).slug,
  };
});

const hostile = [
  '"',
  '""',
  '"unbalanced',
  'hello"world',
  "*",
  "hel*",
  "NEAR(",
  "NEAR(near title, 2)",
  "near AND",
  "AND OR NOT",
  "title:near",
  "{title description}: near",
  "-near",
  "^near",
  "+near",
  "(near",
  "near)",
  "'; drop table articles; --",
  "\\",
  "%",
  "\u0000near",
  "near\u0000",
  "🦀 crab",
  "漢字検索",
  "مرحبا بالعالم",
  "e\u0301\u0301\u0301",
  "\u200b\u200d\ufeff",
  "a".repeat(256),
  `${"x ".repeat(128)}`,
  `${"near ".repeat(51)}`,
];

async function ask(q: string) {
  const res = await t.request("GET", `/api/articles?q=${encodeURIComponent(q)}`);
  return res;
}

describe("hostile queries are answered", () => {
  for (const q of hostile) {
    test(JSON.stringify(q).slice(0, 60), async () => {
      const res = await ask(q);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(["articles", "articlesCount"]);
      expect(res.body.articlesCount).toBe(res.body.articles.length);
    });
  }

  test("operators are words, not syntax", async () => {
    // "near AND" looks for both words; as FTS5 syntax it would be an error or a different query.
    const res = await ask("near AND");
    expect(res.body.articles.map((a: { slug: string }) => a.slug)).toEqual([slugs.near]);
    // A column filter is two words, both searched everywhere.
    expect((await ask("title:near")).body.articles.map((a: { slug: string }) => a.slug)).toEqual([
      slugs.near,
    ]);
    // A quote cannot open a phrase: the words still match.
    expect((await ask('said "hello')).body.articles.map((a: { slug: string }) => a.slug)).toEqual([
      slugs.quote,
    ]);
    // `*` is no operator: "hel*" is the word "hel", which as the last word matches "hello" as a prefix
    // (src/modules/search/text.ts), just as "hel" does; not last, it matches only the word "hel".
    expect((await ask("hel*")).body.articles.map((a: { slug: string }) => a.slug)).toEqual([slugs.quote]);
    expect((await ask("hel* said")).body.articlesCount).toBe(0);
  });

  test("property: any text up to the limit is a 200 with a well-formed list", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme", maxLength: 60 }), async (q) => {
        if (q.length > 256) return;
        const res = await ask(q);
        expect(res.status).toBe(200);
        expect(Array.isArray(res.body.articles)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});

describe("toFtsQuery", () => {
  test("each word is quoted; syntax is dropped; the last word (3+ characters) is a prefix", async () => {
    expect(toFtsQuery('title:"rust" AND NEAR(sqlite*, 3)')).toBe('"title" "rust" "AND" "NEAR" "sqlite" "3"');
    expect(toFtsQuery("NEAR(sqlite*, 3) rust")).toBe('"NEAR" "sqlite" "3" "rust"*');
    expect(toFtsQuery("   ")).toBeUndefined();
    expect(toFtsQuery('"*" ()')).toBeUndefined();
  });

  test("duplicates (any case) count once; words and their number are capped", async () => {
    expect(searchTerms("Rust rust RUST go")).toEqual(["Rust", "go"]);
    const many = Array.from({ length: 40 }, (_, i) => `w${i}`).join(" ");
    expect(searchTerms(many)).toHaveLength(MAX_TERMS);
    expect(searchTerms("z".repeat(500))[0]).toHaveLength(MAX_TERM_CHARS);
  });

  test("property: the output is only quoted phrases (with a prefix `*` after some), never a quote inside one", async () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
        const query = toFtsQuery(text);
        if (query === undefined) return;
        expect(query).toMatch(/^"[^"]+"\*?( "[^"]+"\*?)*$/);
      }),
      { numRuns: 500 },
    );
  });

  test("property: the engine accepts every query built from any text (FTS5 MATCH, or a Postgres tsquery)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary", maxLength: 120 }), async (text) => {
        const found = await t.ctx.store.read.search.page(searchTerms(text), {}, { limit: 5, offset: 0 });
        expect(found.count).toBeGreaterThanOrEqual(found.ids.length);
      }),
      { numRuns: 500 },
    );
  });
});
