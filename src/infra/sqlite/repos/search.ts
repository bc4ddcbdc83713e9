/**
 * Full-text search on SQLite: FTS5 over `articles_fts` (drizzle/sqlite/0002_search.sql: contentless, kept in
 * sync by ArticlesRepo.reindex and a delete trigger; rowid = articles.id). One prepared pair (page of ids,
 * total) per combination of the `tag`/`author`/`favorited` filters, each filter a semi-join on its index.
 *
 * Each term becomes a double-quoted FTS5 phrase (src/lib/search-text.ts `wordPhrase`: its words, CJK runs as
 * character pairs, a trailing `*` when the last word may match as a prefix), which FTS5 reads literally;
 * terms cannot contain a quote (src/lib/search-terms.ts), so they cannot close one. The only operator in
 * the expression is that `*`. Ranking is bm25 with the title weighted
 * highest, then tags, description and body; ties go to the newest. Ranking has to score every match before
 * it can pick the best 20, so a search costs in proportion to how many articles contain all its words (the
 * index finds them; the table is never scanned).
 */
import { and, count, desc, eq, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { searchTerms } from "../../../lib/search-terms.ts";
import { wordPhrase } from "../../../lib/search-text.ts";
import type { SearchFilter, SearchRepo } from "../../../store/content.ts";
import type { SqliteDb } from "../client.ts";
import { articles, articleTags, favorites, tags } from "../schema.ts";
import { articlesFts } from "./fts-table.ts";

/** Column weights for bm25, in the table's column order: title, description, body, tags. */
export const BM25_WEIGHTS = [10, 3, 1, 5] as const;
const rank = sql.raw(`bm25(articles_fts, ${BM25_WEIGHTS.map((w) => w.toFixed(1)).join(", ")})`);

const ph = (name: string) => sql.placeholder(name);

/** The FTS5 MATCH expression for terms (every one must occur; the last may be a prefix). */
export const ftsExpression = (terms: readonly string[]) =>
  terms.map((term, i) => wordPhrase(term, i === terms.length - 1)).join(" ");

/** The FTS5 MATCH expression for a reader's text, or undefined when it holds no word (nothing can match). */
export function toFtsQuery(text: string): string | undefined {
  const terms = searchTerms(text);
  return terms.length === 0 ? undefined : ftsExpression(terms);
}

function where(db: SqliteDb, f: SearchFilter): SQL | undefined {
  const id: SQLiteColumn = articlesFts.rowid;
  const tagId = sql`(select ${tags.id} from ${tags} where ${tags.name} = ${ph("tag")})`;
  return and(
    sql`${articlesFts} match ${ph("q")}`,
    f.tag !== undefined
      ? sql`${id} in ${db.select({ id: articleTags.articleId }).from(articleTags).where(eq(articleTags.tagId, tagId))}`
      : undefined,
    f.author !== undefined
      ? sql`${id} in ${db
          .select({ id: articles.id })
          .from(articles)
          .where(eq(articles.authorId, ph("author")))}`
      : undefined,
    f.favorited !== undefined
      ? sql`${id} in ${db
          .select({ id: favorites.articleId })
          .from(favorites)
          .where(eq(favorites.userId, ph("favorited")))}`
      : undefined,
  );
}

function build(db: SqliteDb, f: SearchFilter) {
  const condition = where(db, f);
  return {
    ids: db
      .select({ id: articlesFts.rowid })
      .from(articlesFts)
      .where(condition)
      .orderBy(rank, desc(articlesFts.rowid))
      .limit(ph("limit"))
      .offset(ph("offset"))
      .prepare(),
    count: db.select({ n: count() }).from(articlesFts).where(condition).prepare(),
  };
}

/** The page-of-ids and count statements of a filter's shape; exported for tests/perf/query-plans.test.ts. */
export function searchStatements(db: SqliteDb) {
  const built = new Map<string, ReturnType<typeof build>>();
  return (f: SearchFilter) => {
    const key = `${+(f.tag !== undefined)}${+(f.author !== undefined)}${+(f.favorited !== undefined)}`;
    let s = built.get(key);
    if (!s) {
      s = build(db, f);
      built.set(key, s);
    }
    return s;
  };
}

export function sqliteSearch(db: SqliteDb): SearchRepo {
  const statements = searchStatements(db);
  return {
    async page(terms, filter, page) {
      if (terms.length === 0) return { ids: [], count: 0 };
      const s = statements(filter);
      const params = {
        q: ftsExpression(terms),
        ...(filter.tag !== undefined && { tag: filter.tag }),
        ...(filter.author !== undefined && { author: filter.author }),
        ...(filter.favorited !== undefined && { favorited: filter.favorited }),
      };
      const ids = s.ids.all({ ...params, ...page }).map((r) => r.id);
      return { ids, count: s.count.get(params)?.n ?? 0 };
    },
  };
}
