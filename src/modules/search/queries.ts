/**
 * Full-text search statements over `articles_fts` (drizzle/0002_search.sql: FTS5, contentless, kept in sync
 * by the article services and a delete trigger; rowid = articles.id). One prepared pair (page of ids,
 * total) per combination of the `tag`/`author`/`favorited` filters, each filter a semi-join on its index.
 *
 * Ranking is bm25 with the title weighted highest, then tags, description and body; ties go to the newest.
 * Ranking has to score every match before it can pick the best 20, so a search costs in proportion to how
 * many articles contain all its words (the index finds them; the table is never scanned). Pages are cached
 * (src/modules/cache), so a popular search is ranked once per write, not once per reader.
 */
import { and, count, desc, eq, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Db } from "../../db/client.ts";
import { articles, articleTags, favorites, tags } from "../../db/schema.ts";
import { perOwner } from "../../lib/memo.ts";
import { articlesFts } from "./fts-table.ts";

/** Column weights for bm25, in the table's column order: title, description, body, tags. */
export const BM25_WEIGHTS = [10, 3, 1, 5] as const;
const rank = sql.raw(`bm25(articles_fts, ${BM25_WEIGHTS.map((w) => w.toFixed(1)).join(", ")})`);

export interface SearchShape {
  tag: boolean;
  author: boolean;
  favorited: boolean;
}

const ph = (name: string) => sql.placeholder(name);

function filters(db: Db, shape: SearchShape): SQL | undefined {
  const id: SQLiteColumn = articlesFts.rowid;
  const tagId = sql`(select ${tags.id} from ${tags} where ${tags.name} = ${ph("tag")})`;
  return and(
    sql`${articlesFts} match ${ph("q")}`,
    shape.tag
      ? sql`${id} in ${db.select({ id: articleTags.articleId }).from(articleTags).where(eq(articleTags.tagId, tagId))}`
      : undefined,
    shape.author
      ? sql`${id} in ${db
          .select({ id: articles.id })
          .from(articles)
          .where(eq(articles.authorId, ph("author")))}`
      : undefined,
    shape.favorited
      ? sql`${id} in ${db
          .select({ id: favorites.articleId })
          .from(favorites)
          .where(eq(favorites.userId, ph("favorited")))}`
      : undefined,
  );
}

function buildSearch(db: Db, shape: SearchShape) {
  const where = filters(db, shape);
  return {
    ids: db
      .select({ id: articlesFts.rowid })
      .from(articlesFts)
      .where(where)
      .orderBy(rank, desc(articlesFts.rowid))
      .limit(ph("limit"))
      .offset(ph("offset"))
      .prepare(),
    count: db.select({ n: count() }).from(articlesFts).where(where).prepare(),
  };
}

export const searchQueries = perOwner((db: Db) => {
  const built = new Map<string, ReturnType<typeof buildSearch>>();
  return (shape: SearchShape) => {
    const key = `${+shape.tag}${+shape.author}${+shape.favorited}`;
    let statements = built.get(key);
    if (!statements) {
      statements = buildSearch(db, shape);
      built.set(key, statements);
    }
    return statements;
  };
});
