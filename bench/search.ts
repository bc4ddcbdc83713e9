/**
 * `bun bench/search.ts`: what full-text search costs on the benchmark corpus (bench/seed.ts: 10,000 users,
 * 100,000 articles, BENCH_CJK of them in Japanese/Chinese). Prints, as markdown:
 *
 * - the size of the search index (every articles_fts* table, from dbstat) beside the whole database, and the
 *   time to seed with and without it;
 * - per query: median and p95 latency of `GET /api/articles?q=` as the service answers it with the caches
 *   off (ranking every match, the total, and the rows of a page of 20), and how many articles match;
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
import { openDatabase } from "../src/db/client.ts";
import { applyMigrations } from "../src/db/migrate.ts";
import { createLogger } from "../src/lib/logger.ts";
import { createArticle, listArticles } from "../src/modules/articles/service.ts";
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
  const { db, sqlite } = openDatabase(file);
  applyMigrations(db);
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

const mib = (bytes: number) => (bytes / 1_048_576).toFixed(1);
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

try {
  const plainMs = seed(join(dir, "plain.db"), false);
  const file = join(dir, "search.db");
  const searchMs = seed(file, true);
  const size = sizes(file);
  log(
    `seeded ${articles} articles (${Math.round(cjk * 100)}% CJK): ${plainMs} ms without the index, ${searchMs} ms with it`,
  );

  const config = loadConfig({
    NODE_ENV: "test",
    DATABASE_URL: file,
    JWT_SECRET: "bench-secret-0123456789-abcdefghij-KLMNOPQ",
    LOG_LEVEL: "silent",
    CACHE_TTL_MS: "0",
  });
  const ctx = createContext(config, createLogger("silent"));

  const rows: string[] = [];
  for (const [label, q] of queries) {
    const times: number[] = [];
    let count = 0;
    for (let i = 0; i < runs + 3; i++) {
      const started = performance.now();
      const body = listArticles(ctx, { q }) as unknown as { json?: string; articlesCount?: number };
      const elapsed = performance.now() - started;
      if (i >= 3) times.push(elapsed);
      count =
        body.articlesCount ?? (JSON.parse(body.json ?? "{}") as { articlesCount: number }).articlesCount;
    }
    times.sort((a, b) => a - b);
    rows.push(
      `| ${label} | \`${q}\` | ${count.toLocaleString("en")} | ${quantile(times, 0.5).toFixed(2)} | ${quantile(times, 0.95).toFixed(2)} |`,
    );
  }

  const viewer = { id: 1, role: "editor" as const };
  const creates: string[] = [];
  for (const [label, text] of [
    ["English", "river garden engine bridge market letter paper music travel health energy forest island"],
    ["CJK", "東京の天気と検索技術を開発するデータベースサーバーの研究と日本語の記事を書く学生と先生"],
  ] as const) {
    const n = 300;
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      createArticle(ctx, viewer, {
        title: `${text.slice(0, 12)} ${i}`,
        description: text,
        body: text.repeat(8),
      });
    }
    creates.push(`| ${label} | ${(((performance.now() - started) / n) * 1000).toFixed(0)} |`);
  }
  closeContext(ctx);

  console.log(`### Search on ${articles.toLocaleString("en")} articles (${Math.round(cjk * 100)}% CJK)\n`);
  console.log(
    `Index: ${mib(size.fts)} MiB of a ${mib(size.total)} MiB database. Seeding took ${(searchMs / 1000).toFixed(1)} s with the index, ${(plainMs / 1000).toFixed(1)} s without.\n`,
  );
  console.log(`Latency of one search (caches off, page of 20 + total), ${runs} runs each:\n`);
  console.log("| query | q | matches | p50 ms | p95 ms |\n| --- | --- | --- | --- | --- |");
  console.log(rows.join("\n"));
  console.log("\nCreate with its index entry (300 each, µs per create):\n\n| text | µs |\n| --- | --- |");
  console.log(creates.join("\n"));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
