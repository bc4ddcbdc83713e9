/**
 * `bun bench/search.ts`: what full-text search costs on the benchmark corpus (bench/seed.ts: 10,000 users,
 * 100,000 articles, BENCH_CJK of them in Japanese/Chinese). Prints, as markdown:
 *
 * - the size of the search index (every articles_fts* table, from dbstat) beside the whole database, and the
 *   time to seed with and without it;
 * - the time to build the whole index: the application's way (src/modules/search/indexing.ts, text through
 *   src/modules/search/text.ts) and, for comparison, one SQL statement copying the raw text (how it was built
 *   before character pairs and prefixes);
 * - per query: median and p95 latency of `GET /api/articles?q=` as the service answers it with the caches
 *   off (ranking every match, the total, and the rows of a page of 20), and how many articles match; beside
 *   it, alternating run by run on the same index, the same words as exact quoted words (no prefix, no
 *   pairs: the query as it was built before), so machine noise hits both alike. On ASCII text the index is
 *   the same either way, so for English queries that column is the "before";
 * - the cost of creating an article with its index entry, English and CJK.
 *
 * In-process and single-threaded, so the figures are the database work itself, not HTTP. Timing lives here,
 * never in tests. Environment: BENCH_ARTICLES=100000 BENCH_CJK=0.1 BENCH_RUNS=25.
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config.ts";
import { closeContext, createContext } from "../src/context.ts";
import { sqliteArticles } from "../src/infra/sqlite/repos/articles.ts";
import type { SqliteStore } from "../src/infra/sqlite/store.ts";
import { createLogger } from "../src/lib/logger.ts";
import { searchTerms } from "../src/lib/search-terms.ts";
import { createArticle, listArticles } from "../src/modules/articles/service.ts";
import { openMigrated } from "./lib/db.ts";
import { seedDatabase } from "./seed.ts";

const num = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number ≥ 0`);
  return value;
};
const articles = num("BENCH_ARTICLES", 100_000);
const cjk = num("BENCH_CJK", 0.1);
const runs = Math.max(1, num("BENCH_RUNS", 25));
const log = (line: string) => console.error(`bench: ${line}`);

/** [label, q]: whole words, the start of a word, CJK words inside runs of text, and the longest query. */
const queries: [string, string][] = [
  ["one common word", "dragon"],
  ["two common words", "dragon river"],
  ["three words", "dragon river copper"],
  ["word prefix, 3 letters", "dra"],
  ["word prefix, 2 letters", "ri"],
  ["word prefix, 1 letter", "r"],
  ["two words, the last a prefix", "dragon riv"],
  ["no match", "xylophone"],
  ["CJK, 3 characters", "日本語"],
  ["CJK, 2 characters", "東京"],
  ["CJK, 1 character", "雨"],
  ["CJK, 6 characters", "データベース"],
  ["CJK + English", "東京 dragon"],
  ["12 words (the cap)", "time person year way day thing man world life hand part child"],
];

const dir = mkdtempSync(join(tmpdir(), "quire-search-bench-"));

function seed(file: string, search: boolean) {
  const { sqlite } = openMigrated(file);
  const r = seedDatabase(sqlite, { users: 10_000, articles, search, cjk });
  sqlite.run("PRAGMA wal_checkpoint(TRUNCATE)");
  sqlite.close();
  return r.ms;
}

function sizes(file: string) {
  const sqlite = new Database(file, { readonly: true });
  const fts = sqlite
    .query<{ bytes: number | null }, []>(
      "select sum(pgsize) as bytes from dbstat where name like 'articles\\_fts%' escape '\\'",
    )
    .get()!.bytes;
  const total = sqlite
    .query<{ bytes: number }, []>(
      "select page_count * page_size as bytes from pragma_page_count, pragma_page_size",
    )
    .get()!.bytes;
  sqlite.close();
  return { fts: fts ?? 0, total };
}

/** Seconds to fill the empty index of `file`: the application's way, or by copying the raw text in SQL. */
async function buildIndex(file: string, how: "app" | "raw-sql"): Promise<number> {
  const { db, sqlite } = openMigrated(file);
  const repo = sqliteArticles(db);
  sqlite.run("delete from articles_fts");
  const started = performance.now();
  sqlite.run("BEGIN");
  if (how === "raw-sql") {
    sqlite.run(`insert into articles_fts (rowid, title, description, body, tags)
      select id, title, description, body, coalesce((select group_concat(t.name, ' ') from article_tags at
        join tags t on t.id = at.tag_id where at.article_id = articles.id), '') from articles`);
  } else {
    // The repository's own re-index (the statements a write runs), one article after another.
    for (const { id } of sqlite.query<{ id: number }, []>("select id from articles").all())
      await repo.reindex(id);
  }
  sqlite.run("COMMIT");
  const seconds = (performance.now() - started) / 1000;
  sqlite.close();
  return seconds;
}

const mib = (bytes: number) => (bytes / 1_048_576).toFixed(1);
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const cells = (xs: number[]) => {
  xs.sort((a, b) => a - b);
  return `${quantile(xs, 0.5).toFixed(1)} | ${quantile(xs, 0.95).toFixed(1)}`;
};

try {
  const plain = join(dir, "plain.db");
  const plainMs = seed(plain, false);
  const file = join(dir, "search.db");
  const searchMs = seed(file, true);
  const size = sizes(file);
  const build = { app: await buildIndex(plain, "app"), raw: await buildIndex(plain, "raw-sql") };
  log(`seeded ${articles} articles (${Math.round(cjk * 100)}% CJK) in ${plainMs} + ${searchMs} ms`);

  const config = loadConfig({
    NODE_ENV: "test",
    DATABASE_URL: file,
    JWT_SECRET: "bench-secret-0123456789-abcdefghij-KLMNOPQ",
    LOG_LEVEL: "silent",
    CACHE_TTL_MS: "0",
  });
  const ctx = await createContext(config, createLogger("silent"));
  // Exact-word matching, for the "before" column: the FTS5 expression built without wordPhrase.
  const reader = (ctx.store as SqliteStore).connections.reader;
  const exactSearch = async (phrases: string[], p: { limit: number; offset: number }) => {
    const match = phrases.join(" ");
    const ids = reader
      .query<{ id: number }, [string, number, number]>(
        "select rowid as id from articles_fts where articles_fts match ? order by bm25(articles_fts, 10.0, 3.0, 1.0, 5.0), rowid desc limit ? offset ?",
      )
      .all(match, p.limit, p.offset);
    const count = reader
      .query<{ n: number }, [string]>("select count(*) as n from articles_fts where articles_fts match ?")
      .get(match)!.n;
    return { ids, count };
  };

  const page = { limit: 20, offset: 0 };
  const rows: string[] = [];
  for (const [label, q] of queries) {
    // The same words, each matched as a whole word only (no prefix, no character pairs): the old way.
    const exact = searchTerms(q).map((term) => `"${term}"`);
    const times = { now: [] as number[], exact: [] as number[] };
    const counts = { now: 0, exact: 0 };
    for (let i = 0; i < runs + 3; i++) {
      let started = performance.now();
      const body = (await listArticles(ctx, { q })) as unknown as { json?: string; articlesCount?: number };
      if (i >= 3) times.now.push(performance.now() - started);
      counts.now =
        body.articlesCount ?? (JSON.parse(body.json ?? "{}") as { articlesCount: number }).articlesCount;
      started = performance.now();
      counts.exact = (await exactSearch(exact, page)).count;
      if (i >= 3) times.exact.push(performance.now() - started);
    }
    rows.push(
      `| ${label} | \`${q}\` | ${counts.now.toLocaleString("en")} | ${cells(times.now)} | ${counts.exact.toLocaleString("en")} | ${cells(times.exact)} |`,
    );
  }

  // English and CJK creates alternate, so both see the same machine.
  const viewer = { id: 1, role: "editor" as const, emailVerified: true };
  const texts = {
    English: "river garden engine bridge market letter paper music travel health energy forest island",
    CJK: "東京の天気と検索技術を開発するデータベースサーバーの研究と日本語の記事を書く学生と先生",
  };
  const createMs = { English: [] as number[], CJK: [] as number[] };
  for (let i = 0; i < 300; i++) {
    for (const [label, text] of Object.entries(texts) as [keyof typeof texts, string][]) {
      const started = performance.now();
      await createArticle(ctx, viewer, {
        title: `${text.slice(0, 12)} ${i}`,
        description: text,
        body: text.repeat(8),
      });
      createMs[label].push(performance.now() - started);
    }
  }
  await closeContext(ctx);

  console.log(`### Search on ${articles.toLocaleString("en")} articles (${Math.round(cjk * 100)}% CJK)\n`);
  console.log(`Index: ${mib(size.fts)} MiB of a ${mib(size.total)} MiB database.\n`);
  console.log(
    `Building the whole index: ${build.app.toFixed(1)} s the application's way, ${build.raw.toFixed(1)} s copying the raw text in one SQL statement.\n`,
  );
  console.log(
    `One search (caches off, page of 20 + total), ${runs} runs each, alternating with the same words as exact words:\n`,
  );
  console.log(
    "| query | q | matches | p50 ms | p95 ms | exact words: matches | p50 ms | p95 ms |\n| --- | --- | --- | --- | --- | --- | --- | --- |",
  );
  console.log(rows.join("\n"));
  console.log(
    "\nCreate with its index entry (300 each, alternating), ms:\n\n| text | p50 | p95 |\n| --- | --- | --- |",
  );
  for (const [label, xs] of Object.entries(createMs)) console.log(`| ${label} | ${cells(xs)} |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
