/**
 * What a search word matches (src/modules/search/text.ts): whole words, the last word of 3+ characters also
 * as a prefix; Chinese, Japanese, Korean and Thai as substrings (character pairs); NFKC. And the one-off
 * re-indexing of articles indexed before that (src/modules/search/setup.ts, drizzle/0007).
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { indexText, wordPhrase } from "../../src/lib/search-text.ts";
import { reindexStep, SEARCH_REINDEX } from "../../src/modules/search/setup.ts";
import {
  count,
  createArticle,
  createTestApp,
  registerUser,
  type TestApp,
  type TestUser,
} from "../helpers/app.ts";
import { testOnlyOn } from "../helpers/engine.ts";

let t: TestApp;
let author: TestUser;
const a: Record<string, string> = {};

async function find(q: string): Promise<string[]> {
  const res = await t.request("GET", `/api/articles?limit=100&q=${encodeURIComponent(q)}`);
  expect(res.status).toBe(200);
  expect(res.body.articlesCount).toBe(res.body.articles.length);
  return res.body.articles.map((x: { slug: string }) => x.slug).sort();
}
const only = (...keys: string[]) => keys.map((k) => a[k]!).sort();

beforeAll(async () => {
  t = await createTestApp();
  author = await registerUser(t);
  const make = async (key: string, title: string, body = "text", tagList?: string[]) => {
    a[key] = (await createArticle(t, author.token, { title, body, ...(tagList && { tagList }) })).slug;
  };
  await make("hello", "Hello there", "a friendly greeting");
  await make("help", "Helpful tips", "how to help");
  await make("japanese", "日本語のタイトル", "これは日本語の記事です。東京の天気について。");
  await make("chinese", "中文标题", "北京的天气很好", ["数据库"]);
  await make("korean", "한국어를 배우다", "재미있는 한국어");
  await make("thai", "ภาษาไทย", "สวัสดีครับ");
  await make("mixed", "iPhone日本 launch", "データベース2 release");
  await make("fullwidth", "ｄｒａｇｏｎ ｓｌａｙｅｒ", "ＡＢＣ");
});

describe("words and prefixes", () => {
  test("the last word (3+ characters) matches the words it begins", async () => {
    expect(await find("hel")).toEqual(only("hello", "help"));
    expect(await find("hell")).toEqual(only("hello"));
    expect(await find("helpful")).toEqual(only("help"));
    expect(await find("greeting hel")).toEqual(only("hello"));
  });

  test("earlier words and shorter last words match whole words only", async () => {
    expect(await find("hel greeting")).toEqual([]);
    expect(await find("he")).toEqual([]);
    expect(await find("how")).toEqual(only("help"));
  });

  test("full-width letters are the same letters (NFKC), in the text and in the query", async () => {
    expect(await find("dragon slayer")).toEqual(only("fullwidth"));
    expect(await find("ｓｌａｙ")).toEqual(only("fullwidth"));
    expect(await find("abc")).toEqual(only("fullwidth"));
  });
});

describe("scripts without spaces match as substrings", () => {
  test.each([
    ["日本語", ["japanese"]],
    ["タイトル", ["japanese"]],
    ["本語", ["japanese"]],
    ["日本", ["japanese", "mixed"]],
    ["語", ["japanese"]],
    ["東京の天気", ["japanese"]],
    ["天気", ["japanese"]],
    // Simplified 气, not Japanese 気: another character.
    ["天气", ["chinese"]],
    ["北京", ["chinese"]],
    ["数据", ["chinese"]],
    ["한국어", ["korean"]],
    ["배우", ["korean"]],
    ["ภาษา", ["thai"]],
    ["ไทย", ["thai"]],
  ])("%p finds %p", async (q, keys) => {
    expect(await find(q)).toEqual(only(...keys));
  });

  test.each(["日本人", "東京の雨", "語日", "韓国"])(
    "%p finds nothing (not a substring anywhere)",
    async (q) => {
      expect(await find(q)).toEqual([]);
    },
  );

  test("every word must match: CJK words and other words combine", async () => {
    expect(await find("日本語 東京")).toEqual(only("japanese"));
    expect(await find("日本語 北京")).toEqual([]);
    expect(await find("iphone日本 launch")).toEqual(only("mixed"));
    expect(await find("データベース2")).toEqual(only("mixed"));
    expect(await find("データベース")).toEqual(only("mixed"));
  });

  test("a title match ranks before a body match", async () => {
    const inBody = (await createArticle(t, author.token, { title: "Notes", body: "京都の秋" })).slug;
    const inTitle = (await createArticle(t, author.token, { title: "京都の秋", body: "photos" })).slug;
    const res = await t.request("GET", `/api/articles?q=${encodeURIComponent("京都")}`);
    expect(res.body.articles.map((x: { slug: string }) => x.slug)).toEqual([inTitle, inBody]);
  });

  test("an update re-indexes: the old text stops matching, the new one matches", async () => {
    const slug = (await createArticle(t, author.token, { title: "大阪の夏" })).slug;
    expect(await find("大阪")).toContain(slug);
    const res = await t.request("PUT", `/api/articles/${encodeURIComponent(slug)}`, {
      token: author.token,
      body: { article: { title: "名古屋の冬" } },
    });
    expect(res.status).toBe(200);
    expect(await find("大阪")).not.toContain(res.body.article.slug);
    expect(await find("名古屋")).toContain(res.body.article.slug);
  });
});

describe("indexText and wordPhrase", () => {
  test("ASCII text is stored unchanged (which is why only other articles needed re-indexing)", async () => {
    const ascii = "Hello, World!\n\tC++ & Rust: 100% (v2.0) ~ {x}";
    expect(indexText(ascii)).toBe(ascii);
  });

  test("unspaced runs become pairs and their last character; punctuation stays a separator", async () => {
    expect(indexText("日本語のタイトル")).toBe(" 日本 本語 語の のタ タイ イト トル ル ");
    expect(indexText("東京、大阪。")).toBe(" 東京 京 、 大阪 阪 。");
    expect(indexText("雨")).toBe(" 雨 ");
  });

  test("query words", async () => {
    expect(wordPhrase("日本語", false)).toBe('"日本 本語"');
    expect(wordPhrase("日", false)).toBe('"日"*');
    expect(wordPhrase("hello", true)).toBe('"hello"*');
    expect(wordPhrase("hello", false)).toBe('"hello"');
    expect(wordPhrase("he", true)).toBe('"he"');
    // Followed by other letters, a run must end where they begin: its last character is a token.
    expect(wordPhrase("大学iphone", false)).toBe('"大学 学 iphone"');
  });
});

describe("re-indexing articles indexed before character pairs", () => {
  /** The entry as the SQL of drizzle/0002 wrote it: the raw text. */
  function indexTheOldWay(slug: string) {
    const row = t.sqlite
      .query<{ id: number; title: string; description: string; body: string }, [string]>(
        "select id, title, description, body from articles where slug = ?",
      )
      .get(slug)!;
    t.sqlite.run("delete from articles_fts where rowid = ?", [row.id]);
    t.sqlite.run("insert into articles_fts (rowid, title, description, body, tags) values (?, ?, ?, ?, '')", [
      row.id,
      row.title,
      row.description,
      row.body,
    ]);
    t.ctx.caches.lists.clear();
  }

  // SQLite-only: the entries written the old way and migration 0007 are FTS5's (Postgres started with pairs).
  testOnlyOn("sqlite")("the migration enqueues the job; the job makes old entries findable", async () => {
    indexTheOldWay(a.japanese!);
    indexTheOldWay(a.hello!);
    expect(await find("本語")).toEqual([]);

    const migration = readFileSync(
      join(import.meta.dir, "../../drizzle/sqlite/0007_search-reindex.sql"),
      "utf8",
    );
    t.sqlite.run("delete from jobs where type = ?", [SEARCH_REINDEX]);
    t.sqlite.run(migration);
    expect(await count(t, "jobs where type = ? and state = 'pending'", SEARCH_REINDEX)).toBe(1);

    await t.ctx.jobs.start();
    try {
      for (
        let i = 0;
        i < 200 && (await count(t, "jobs where type = ? and state = 'done'", SEARCH_REINDEX)) === 0;
        i++
      ) {
        await Bun.sleep(10);
      }
    } finally {
      await t.ctx.jobs.stop();
    }
    expect(await count(t, "jobs where type = ? and state = 'done'", SEARCH_REINDEX)).toBe(1);
    t.ctx.caches.lists.clear();
    expect(await find("本語")).toEqual(only("japanese"));
    expect(await find("hel")).toEqual(only("hello", "help"));
  });

  test("steps walk the articles in id order and end after the last", async () => {
    const ids = await t.db.all<{ id: number }>("select id from articles order by id");
    let after = 0;
    let steps = 0;
    for (let next: number | undefined = 0; next !== undefined; steps++) {
      next = await reindexStep(t.ctx, after, 3);
      if (next !== undefined) after = next;
    }
    expect(steps).toBe(Math.floor(ids.length / 3) + 1);
    expect(after).toBe(ids[Math.floor(ids.length / 3) * 3 - 1]!.id);
  });
});
