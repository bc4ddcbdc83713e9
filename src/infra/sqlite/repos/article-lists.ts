/**
 * The statements of article lists on SQLite: one page-of-ids statement and one count per filter shape,
 * each walking its own covering index (see ./articles.ts for the plan of a page).
 */
import { and, count, desc, eq, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { ListFilter } from "../../../store/content.ts";
import type { SqliteDb } from "../client.ts";
import { articles, articleTags, favorites, follows, tags } from "../schema.ts";

const ph = (name: string) => sql.placeholder(name);

const tagId = sql`(select ${tags.id} from ${tags} where ${tags.name} = ${ph("tag")})`;

/** The table a filter's ids come from, its id column, and its condition. */
function idSource(db: SqliteDb, f: ListFilter): { table: SQLiteTable; id: SQLiteColumn; where?: SQL } {
  const favoritedBy = (id: SQLiteColumn) =>
    sql`${id} in ${db
      .select({ id: favorites.articleId })
      .from(favorites)
      .where(eq(favorites.userId, ph("favorited")))}`;
  if (f.tag !== undefined) {
    const id = articleTags.articleId;
    const byAuthor = sql`${id} in ${db
      .select({ id: articles.id })
      .from(articles)
      .where(eq(articles.authorId, ph("author")))}`;
    const where = and(
      eq(articleTags.tagId, tagId),
      f.author !== undefined ? byAuthor : undefined,
      f.favorited !== undefined ? favoritedBy(id) : undefined,
    );
    return { table: articleTags, id, where };
  }
  if (f.author !== undefined) {
    const where = and(
      eq(articles.authorId, ph("author")),
      f.favorited !== undefined ? favoritedBy(articles.id) : undefined,
    );
    return { table: articles, id: articles.id, where };
  }
  if (f.favorited !== undefined) {
    return { table: favorites, id: favorites.articleId, where: eq(favorites.userId, ph("favorited")) };
  }
  if (f.feed !== undefined) {
    const followees = db
      .select({ id: follows.followeeId })
      .from(follows)
      .where(eq(follows.followerId, ph("feed")));
    return { table: articles, id: articles.id, where: sql`${articles.authorId} in ${followees}` };
  }
  return { table: articles, id: articles.id };
}

function buildList(db: SqliteDb, filter: ListFilter) {
  const { table, id, where } = idSource(db, filter);
  return {
    ids: db
      .select({ id })
      .from(table)
      .where(where)
      .orderBy(desc(id))
      .limit(ph("limit"))
      .offset(ph("offset"))
      .prepare(),
    count: db.select({ n: count() }).from(table).where(where).prepare(),
  };
}

const shapeKey = (f: ListFilter) =>
  `${+(f.tag !== undefined)}${+(f.author !== undefined)}${+(f.favorited !== undefined)}${+(f.feed !== undefined)}`;

/** Bound parameters of a filter: only those its statement names (bun:sqlite strict mode refuses extras). */
export const paramsOf = (f: ListFilter) => ({
  ...(f.tag !== undefined && { tag: f.tag }),
  ...(f.author !== undefined && { author: f.author }),
  ...(f.favorited !== undefined && { favorited: f.favorited }),
  ...(f.tag === undefined && f.author === undefined && f.favorited === undefined && f.feed !== undefined
    ? { feed: f.feed }
    : {}),
});

/** The page-of-ids and count statements of a filter's shape (its values do not matter), built once each. */
export function listStatements(db: SqliteDb) {
  const lists = new Map<string, ReturnType<typeof buildList>>();
  return (f: ListFilter) => {
    const key = shapeKey(f);
    let built = lists.get(key);
    if (!built) {
      built = buildList(db, f);
      lists.set(key, built);
    }
    return built;
  };
}
