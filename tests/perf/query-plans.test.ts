/**
 * Every list, feed, search and comment query uses an index at 100,000 articles, and a page costs work in
 * proportion to the page, not to the table. The database is seeded fast (bench/seed.ts: raw prepared
 * inserts in one transaction), then:
 *
 * 1. Each list shape's statements (src/infra/sqlite/repos/article-lists.ts, src/infra/sqlite/repos/search.ts) are held
 *    to a precise plan: the page of ids walks one index newest-first with no sort (so LIMIT stops it after
 *    offset + limit entries); the feed may sort, but only the followed authors' ids (a covering index range
 *    per author); search scans only the FTS index's matches.
 * 2. Every SELECT the app prepares while serving the list, feed, search, comment, profile and tag routes is
 *    recorded and checked: no full scan of a large table except the two bounded ones named below.
 *
 * Both run twice: on fresh statistics, and after ANALYZE (housekeeping runs PRAGMA optimize), since the
 * planner may choose differently once it knows the data.
 */
import { beforeAll, expect, test } from "bun:test";
import { seedDatabase } from "../../bench/seed.ts";
import { articleStatements } from "../../src/infra/sqlite/repos/articles.ts";
import { searchStatements } from "../../src/infra/sqlite/repos/search.ts";
import type { SqliteStore } from "../../src/infra/sqlite/store.ts";
import type { ListFilter } from "../../src/store/content.ts";
import { createTestApp, follow, registerUser, type TestApp } from "../helpers/app.ts";
import { onlyOn, testEngine } from "../helpers/engine.ts";

interface ListShape {
  tag: boolean;
  author: boolean;
  favorited: boolean;
  feed: boolean;
}
/** A filter of this shape (the values do not change the statement). */
const filterOf = (s: ListShape): ListFilter => ({
  ...(s.tag && { tag: "time" }),
  ...(s.author && { author: 1 }),
  ...(s.favorited && { favorited: 1 }),
  ...(s.feed && { feed: 1 }),
});
/** The statements the SQLite repositories prepare on the test app's connection. */
const statements = () => {
  const db = (t.ctx.store as SqliteStore).connections.writerDb;
  return { articles: articleStatements(db), search: searchStatements(db) };
};

const ARTICLES = 100_000;
let t: TestApp;
const prepared = new Set<string>();

interface PlanRow {
  id: number;
  parent: number;
  detail: string;
}

/** The plan as indented lines; `top` holds the lines of the outermost query only. */
function plan(sql: string) {
  const rows = t.sqlite.query(`explain query plan ${sql}`).all() as PlanRow[];
  const depth = new Map<number, number>([[0, -1]]);
  const lines: string[] = [];
  const top: string[] = [];
  for (const r of rows) {
    const d = (depth.get(r.parent) ?? 0) + 1;
    depth.set(r.id, d);
    lines.push(`${"  ".repeat(d)}${r.detail}`);
    if (r.parent === 0) top.push(r.detail);
  }
  return { text: lines.join("\n"), lines: rows.map((r) => r.detail), top };
}

beforeAll(async () => {
  if (testEngine !== "sqlite") return;
  t = await createTestApp();
  seedDatabase(t.sqlite, {
    users: 5_000,
    articles: ARTICLES,
    commentsPerArticle: 1,
    favoritesPerUser: 10,
  });
  // Record every statement the app prepares from here on (Drizzle prepares through Database#prepare).
  const sqlite = t.sqlite;
  for (const method of ["prepare", "query"] as const) {
    const original = sqlite[method].bind(sqlite) as (sql: string, ...rest: unknown[]) => unknown;
    (sqlite as unknown as Record<string, unknown>)[method] = (sql: string, ...rest: unknown[]) => {
      prepared.add(sql);
      return original(sql, ...rest);
    };
  }
  // Drive every read route, anonymous and signed in, through each filter combination.
  const reader = await registerUser(t);
  for (const name of ["user1", "user2", "user3", "user4000"]) await follow(t, reader.token, name);
  await t.request("POST", "/api/articles/article-5/favorite", { token: reader.token });
  const paths = [
    "/api/articles",
    "/api/articles?offset=40&limit=10",
    "/api/articles?tag=time",
    "/api/articles?author=user1",
    "/api/articles?favorited=user7",
    "/api/articles?tag=time&author=user1",
    "/api/articles?tag=time&favorited=user7",
    "/api/articles?author=user1&favorited=user7",
    "/api/articles?tag=time&author=user1&favorited=user7",
    "/api/articles?q=dragon",
    "/api/articles?q=dra",
    `/api/articles?q=${encodeURIComponent("日本語 dragon")}`,
    "/api/articles?q=dragon&tag=time&author=user1&favorited=user7",
    "/api/articles?q=dragon&tag=time",
    "/api/articles?q=dragon&author=user1",
    "/api/articles?q=dragon&favorited=user7",
    "/api/articles/feed",
    "/api/articles/article-5",
    "/api/articles/article-5/comments",
    "/api/profiles/user1",
    "/api/tags",
  ];
  for (const token of [undefined, reader.token]) {
    for (const path of paths) {
      if (!token && path.endsWith("/feed")) continue;
      const res = await t.request("GET", path, { token });
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`);
    }
  }
}, 120_000);

const shapes: [string, ListShape][] = [
  ["no filter", { tag: false, author: false, favorited: false, feed: false }],
  ["tag", { tag: true, author: false, favorited: false, feed: false }],
  ["author", { tag: false, author: true, favorited: false, feed: false }],
  ["favorited", { tag: false, author: false, favorited: true, feed: false }],
  ["feed", { tag: false, author: false, favorited: false, feed: true }],
];
const combos: [string, ListShape][] = [
  ["tag + author", { tag: true, author: true, favorited: false, feed: false }],
  ["tag + favorited", { tag: true, author: false, favorited: true, feed: false }],
  ["author + favorited", { tag: false, author: true, favorited: true, feed: false }],
  ["tag + author + favorited", { tag: true, author: true, favorited: true, feed: false }],
];

/** What each shape's page of ids must do: walk this index, in order. */
const idsPlan: Record<string, { walk: string; sorts: boolean }> = {
  // An index of ids alone, newest first; LIMIT stops the walk after offset + limit entries, and a deep
  // offset reads index pages of ids, not the article rows (drizzle/0004_articles-id-index.sql).
  "no filter": { walk: "SCAN articles USING COVERING INDEX articles_id_idx", sorts: false },
  tag: { walk: "SEARCH article_tags USING COVERING INDEX article_tags_tag_idx (tag_id=?)", sorts: false },
  author: { walk: "SEARCH articles USING COVERING INDEX articles_author_idx (author_id=?)", sorts: false },
  favorited: {
    walk: "SEARCH favorites USING COVERING INDEX sqlite_autoindex_favorites_1 (user_id=?)",
    sorts: false,
  },
  // One covering range per followed author, then a sort of those ids: bounded by what they wrote.
  feed: { walk: "SEARCH articles USING COVERING INDEX articles_author_idx (author_id=?)", sorts: true },
};
const countPlan: Record<string, string> = {
  // SQLite's count(*) fast path: it counts b-tree cells page by page over the smallest index. This is the
  // one statement whose work grows with the table; its result is cached (`counts`) and only recounted after
  // a create or delete.
  "no filter": "SCAN articles USING COVERING INDEX articles_id_idx",
  tag: "SEARCH article_tags USING COVERING INDEX article_tags_tag_idx (tag_id=?)",
  author: "SEARCH articles USING COVERING INDEX articles_author_idx (author_id=?)",
  favorited: "SEARCH favorites USING COVERING INDEX sqlite_autoindex_favorites_1 (user_id=?)",
  feed: "SEARCH articles USING COVERING INDEX articles_author_idx (author_id=?)",
};

/** Full scans of large tables (not SEARCH, not a virtual table, not a subquery's rows). */
const fullScans = (lines: string[]) =>
  lines.filter((l) =>
    /^SCAN (articles|article_tags|favorites|follows|comments|users|tags|former_slugs)\b/.test(l),
  );

for (const analyzed of [false, true]) {
  // SQLite-only: these are SQLite's query plans (EXPLAIN QUERY PLAN, FTS5, covering indexes).
  onlyOn("sqlite")(analyzed ? "after ANALYZE" : "fresh statistics", () => {
    beforeAll(async () => {
      if (analyzed) t.sqlite.run("ANALYZE");
    });

    for (const [name, shape] of shapes) {
      test(`${name}: the page of ids walks its index without sorting; the total uses an index`, async () => {
        const q = statements().articles.list(filterOf(shape));
        const ids = plan(q.ids.getQuery().sql);
        expect(ids.lines, ids.text).toContain(idsPlan[name]!.walk);
        expect(ids.top.includes("USE TEMP B-TREE FOR ORDER BY"), ids.text).toBe(idsPlan[name]!.sorts);
        if (name !== "no filter") expect(fullScans(ids.lines), ids.text).toEqual([]);
        if (name === "feed") {
          expect(ids.lines, ids.text).toContain(
            "SEARCH follows USING COVERING INDEX sqlite_autoindex_follows_1 (follower_id=?)",
          );
        }
        const count = plan(q.count.getQuery().sql);
        expect(count.lines, count.text).toContain(countPlan[name]!);
        if (name !== "no filter") expect(fullScans(count.lines), count.text).toEqual([]);
      });
    }

    for (const [name, shape] of combos) {
      test(`${name}: every table is reached through an index`, async () => {
        const q = statements().articles.list(filterOf(shape));
        for (const sql of [q.ids.getQuery().sql, q.count.getQuery().sql]) {
          const p = plan(sql);
          expect(fullScans(p.lines), p.text).toEqual([]);
          expect(
            p.lines.some((l) => l.startsWith("SEARCH")),
            p.text,
          ).toBe(true);
        }
      });
    }

    test("rows of a page, one article, and a reader's flags: primary keys and unique indexes only", async () => {
      const q = statements().articles.q();
      const rows = plan(q.byIds.getQuery().sql);
      expect(rows.lines, rows.text).toContain("SEARCH articles USING INTEGER PRIMARY KEY (rowid=?)");
      expect(rows.lines, rows.text).toContain("SEARCH users USING INTEGER PRIMARY KEY (rowid=?)");
      // tagList: the article's tag links from the primary key alone (aliased `at` in the SQL), then the names
      // by rowid, sorted (a handful of rows).
      expect(rows.lines, rows.text).toContain(
        "SEARCH at USING COVERING INDEX sqlite_autoindex_article_tags_1 (article_id=?)",
      );
      const one = plan(q.bySlug.getQuery().sql);
      expect(one.lines, one.text).toContain("SEARCH articles USING INDEX articles_slug_uq (slug=?)");
      for (const sql of [q.viewerFlags, q.favoritedAmong].map((s) => s.getQuery().sql)) {
        const p = plan(sql);
        expect(fullScans(p.lines), p.text).toEqual([]);
      }
    });

    test("search: the FTS index finds the matches; filters are index lookups", async () => {
      for (const tag of [false, true])
        for (const author of [false, true])
          for (const favorited of [false, true]) {
            const q = statements().search({
              ...(tag && { tag: "time" }),
              ...(author && { author: 1 }),
              ...(favorited && { favorited: 1 }),
            });
            for (const sql of [q.ids.getQuery().sql, q.count.getQuery().sql]) {
              const p = plan(sql);
              // "M" in the index string: FTS5 is answering a MATCH, not listing its whole index.
              expect(
                p.lines.some((l) => /^SCAN articles_fts VIRTUAL TABLE INDEX \d+:.*M/.test(l)),
                p.text,
              ).toBe(true);
              expect(fullScans(p.lines), p.text).toEqual([]);
            }
          }
    });

    test("every SELECT prepared while serving the read routes avoids full scans of large tables", async () => {
      // registerUser (tests/helpers/app.ts) looks the new user up by exact name: the test's query, not the app's.
      const helpers = new Set(["select id from users where username = ?"]);
      const selects = [...prepared].filter((sql) => /^\s*select/i.test(sql) && !helpers.has(sql));
      expect(selects.length).toBeGreaterThan(15);
      const allowed = [
        // The unfiltered page of ids (checked above: newest-first walk of articles_id_idx, stopped by LIMIT).
        /^select "id" from "articles" order by "articles"\."id" desc limit \? offset \?$/,
        // The unfiltered total (checked above: count(*) over the smallest index; cached).
        /^select count\(\*\) from "articles"$/,
        // The tag list: one pass over the tags (distinct names, not articles); cached.
        /^select "name" from "tags" where exists/,
      ];
      const offenders = selects
        .filter((sql) => !allowed.some((re) => re.test(sql)))
        .map((sql) => ({ sql, plan: plan(sql) }))
        .filter(({ plan }) => fullScans(plan.lines).length > 0)
        .map(({ sql, plan }) => `${sql}\n${plan.text}`);
      expect(offenders).toEqual([]);
    });

    test("former slugs: found by their primary key, and dropped with their article through an index", async () => {
      const q = statements().articles.q();
      const lookup = plan(q.currentSlug.getQuery().sql);
      expect(lookup.lines, lookup.text).toContain(
        "SEARCH former_slugs USING INDEX sqlite_autoindex_former_slugs_1 (slug=?)",
      );
      expect(lookup.lines, lookup.text).toContain("SEARCH articles USING INTEGER PRIMARY KEY (rowid=?)");
      // The ON DELETE CASCADE from articles runs this lookup once per deleted article.
      const cascade = plan("select rowid from former_slugs where article_id = 1");
      expect(cascade.lines, cascade.text).toContain(
        "SEARCH former_slugs USING COVERING INDEX former_slugs_article_idx (article_id=?)",
      );
    });

    test("comments of an article: their index, in id order, no sort", async () => {
      const sql = [...prepared].find((s) =>
        /from "comments" .*where "comments"\."article_id" = \?.*order by/.test(s),
      );
      expect(sql).toBeDefined();
      const p = plan(sql!);
      expect(p.lines, p.text).toContain("SEARCH comments USING INDEX comments_article_idx (article_id=?)");
      expect(p.top, p.text).not.toContain("USE TEMP B-TREE FOR ORDER BY");
    });
  });
}
