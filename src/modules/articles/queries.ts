/**
 * The article read queries, each prepared once per connection.
 *
 * A page is read in two steps. First the ids: a small query per filter combination that walks one covering
 * index newest-first and stops after offset + limit entries (tag → article_tags_tag_idx, author →
 * articles_author_idx, favorited → favorites' primary key, none → articles_id_idx), so the first pages cost
 * the same at 100 or 100,000 articles, and a deep offset costs index entries, not rows. Then the rows of
 * those ids, by primary key, with author and tagList (20 primary-key lookups). The
 * feed is the exception that cannot stop early: it reads the followed authors' article ids (a covering index
 * range per author) and sorts them, which is work proportional to what those authors wrote, not to the
 * table. tests/perf/query-plans.test.ts holds every shape to its plan.
 *
 * Rows are viewer-independent, so they can be cached and shared; `favoritedAmong`/`followingAmong` read one
 * viewer's flags for a page afterwards. Filters are compiled into one statement per combination (never
 * `(? IS NULL OR …)`), so each keeps its index.
 */
import { and, count, desc, eq, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db } from "../../db/client.ts";
import { articles, articleTags, favorites, follows, tags, users } from "../../db/schema.ts";
import { perOwner } from "../../lib/memo.ts";

const ph = (name: string) => sql.placeholder(name);
/** `column IN (the JSON array bound to :name)`: one statement for any number of ids. */
export const inJsonArray = (column: SQLiteColumn, name: string) =>
  sql`${column} in (select value from json_each(${ph(name)}))`;

/**
 * The columns of an article row. `tagList` is in code point order (`order by` a text column uses SQLite's
 * BINARY collation, which sorts UTF-8 as code points do; Postgres needs `COLLATE "C"` for the same), the order
 * src/lib/collation.ts gives the tags of write events. Author fields and tags come from correlated subqueries on primary keys
 * rather than a join: measured on the benchmark corpus, joining users made the one-row lookup 3.4× slower
 * (21 → 6 µs). Spelled out in SQL with qualified names, because Drizzle leaves columns unqualified in a
 * one-table select and an unqualified "id" inside a subquery would be the inner table's.
 */
const author = (column: string) =>
  sql.raw(`(select users.${column} from users where users.id = "articles"."author_id")`);
const rowFields = {
  id: articles.id,
  slug: articles.slug,
  title: articles.title,
  description: articles.description,
  createdAt: articles.createdAt,
  updatedAt: articles.updatedAt,
  favoritesCount: articles.favoritesCount,
  authorId: articles.authorId,
  tagList: sql<string>`(select json_group_array(name) from (select t.name as name from article_tags at join tags t on t.id = at.tag_id where at.article_id = "articles"."id" order by t.name))`,
  authorUsername: sql<string>`${author("username")}`,
  authorBio: sql<string | null>`${author("bio")}`,
  authorImage: sql<string | null>`${author("image")}`,
};

export interface ListRow {
  id: number;
  slug: string;
  title: string;
  description: string;
  createdAt: number;
  updatedAt: number;
  favoritesCount: number;
  authorId: number;
  tagList: string;
  authorUsername: string;
  authorBio: string | null;
  authorImage: string | null;
}
export interface DetailRow extends ListRow {
  body: string;
}

/**
 * Which filters a list has. Parameters: `tag` (a name), `author` and `favorited` (user ids, resolved by the
 * caller), `viewer` (the feed's reader).
 */
export interface ListShape {
  tag: boolean;
  author: boolean;
  favorited: boolean;
  feed: boolean;
}

const tagId = sql`(select ${tags.id} from ${tags} where ${tags.name} = ${ph("tag")})`;

/** The table a shape's ids come from, its id column, and its filter. */
function idSource(db: Db, shape: ListShape): { table: SQLiteTable; id: SQLiteColumn; where?: SQL } {
  const favoritedBy = (id: SQLiteColumn) =>
    sql`${id} in ${db
      .select({ id: favorites.articleId })
      .from(favorites)
      .where(eq(favorites.userId, ph("favorited")))}`;
  if (shape.tag) {
    const id = articleTags.articleId;
    const byAuthor = sql`${id} in ${db
      .select({ id: articles.id })
      .from(articles)
      .where(eq(articles.authorId, ph("author")))}`;
    const where = and(
      eq(articleTags.tagId, tagId),
      shape.author ? byAuthor : undefined,
      shape.favorited ? favoritedBy(id) : undefined,
    );
    return { table: articleTags, id, where };
  }
  if (shape.author) {
    const where = and(
      eq(articles.authorId, ph("author")),
      shape.favorited ? favoritedBy(articles.id) : undefined,
    );
    return { table: articles, id: articles.id, where };
  }
  if (shape.favorited) {
    return { table: favorites, id: favorites.articleId, where: eq(favorites.userId, ph("favorited")) };
  }
  if (shape.feed) {
    const followees = db
      .select({ id: follows.followeeId })
      .from(follows)
      .where(eq(follows.followerId, ph("viewer")));
    return { table: articles, id: articles.id, where: sql`${articles.authorId} in ${followees}` };
  }
  return { table: articles, id: articles.id };
}

function buildList(db: Db, shape: ListShape) {
  const { table, id, where } = idSource(db, shape);
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

export const articleQueries = perOwner((db: Db) => {
  const lists = new Map<string, ReturnType<typeof buildList>>();
  return {
    /** The prepared ids and count statements of one filter combination (built on first use). */
    list(shape: ListShape) {
      const key = `${+shape.tag}${+shape.author}${+shape.favorited}${+shape.feed}`;
      let built = lists.get(key);
      if (!built) {
        built = buildList(db, shape);
        lists.set(key, built);
      }
      return built;
    },
    /** Rows of the ids in `:ids` (a JSON array), in no particular order. */
    rowsByIds: db.select(rowFields).from(articles).where(inJsonArray(articles.id, "ids")).prepare(),
    bySlug: db
      .select({ ...rowFields, body: articles.body })
      .from(articles)
      .where(eq(articles.slug, ph("slug")))
      .prepare(),
    /** One viewer's flags on one article: two primary-key probes. No row if the viewer is gone. */
    viewerFlags: db
      .select({
        favorited: sql<number>`exists(select 1 from ${favorites} where ${favorites.userId} = ${ph("viewer")} and ${favorites.articleId} = ${ph("article")})`,
        following: sql<number>`exists(select 1 from ${follows} where ${follows.followerId} = ${ph("viewer")} and ${follows.followeeId} = ${ph("author")})`,
      })
      .from(users)
      .where(eq(users.id, ph("viewer")))
      .prepare(),
    /** Which of the articles in `:ids` the viewer has favourited. */
    favoritedAmong: db
      .select({ id: favorites.articleId })
      .from(favorites)
      .where(and(eq(favorites.userId, ph("viewer")), inJsonArray(favorites.articleId, "ids")))
      .prepare(),
    /** Which of the users in `:ids` the viewer follows. */
    followingAmong: db
      .select({ id: follows.followeeId })
      .from(follows)
      .where(and(eq(follows.followerId, ph("viewer")), inJsonArray(follows.followeeId, "ids")))
      .prepare(),
    /** The few columns the write paths need to decide 404/403. */
    headBySlug: db
      .select({
        id: articles.id,
        authorId: articles.authorId,
        slug: articles.slug,
        updatedAt: articles.updatedAt,
      })
      .from(articles)
      .where(eq(articles.slug, ph("slug")))
      .prepare(),
  };
});

/**
 * The write statements of the article services, prepared once like the reads: a query builder that compiles
 * its SQL on every request cost as much as the inserts themselves. Tag lists travel as JSON arrays
 * (json_each), so one statement serves any number of tags.
 */
export const articleWrites = perOwner((db: Db) => {
  const names = sql`json_each(${ph("names")})`;
  return {
    insert: db
      .insert(articles)
      .values({
        slug: ph("slug"),
        title: ph("title"),
        description: ph("description"),
        body: ph("body"),
        authorId: ph("authorId"),
        createdAt: ph("now"),
        updatedAt: ph("now"),
      })
      .returning({ id: articles.id })
      .prepare(),
    unlinkTags: db
      .delete(articleTags)
      .where(eq(articleTags.articleId, ph("article")))
      .prepare(),
    /** New tag names from `:names`; existing ones stay (`where true` keeps SQLite from reading ON as a join). */
    insertTags: db
      .insert(tags)
      .select(
        db
          .select({ id: sql<number>`null`.as("id"), name: sql<string>`value`.as("name") })
          .from(names)
          .where(sql`true`),
      )
      .onConflictDoNothing()
      .prepare(),
    linkTags: db
      .insert(articleTags)
      .select(
        db
          .select({
            articleId: sql<number>`${ph("article")}`.as("article_id"),
            tagId: tags.id,
          })
          .from(sql`json_each(${ph("names")}) j`)
          .innerJoin(tags, sql`${tags.name} = j.value`),
      )
      .prepare(),
    tagNames: db
      .select({ name: tags.name })
      .from(articleTags)
      .innerJoin(tags, eq(tags.id, articleTags.tagId))
      .where(eq(articleTags.articleId, ph("article")))
      .orderBy(tags.name)
      .prepare(),
    /** Returns the row only when it was new: a repeated favourite changes nothing. */
    favorite: db
      .insert(favorites)
      .values({ userId: ph("user"), articleId: ph("article") })
      .onConflictDoNothing()
      .returning({ articleId: favorites.articleId })
      .prepare(),
    unfavorite: db
      .delete(favorites)
      .where(and(eq(favorites.userId, ph("user")), eq(favorites.articleId, ph("article"))))
      .returning({ articleId: favorites.articleId })
      .prepare(),
    /** favorites_count moved by `:delta` (±1), never below zero. */
    countFavorite: db
      .update(articles)
      .set({ favoritesCount: sql`max(${articles.favoritesCount} + ${ph("delta")}, 0)` })
      .where(eq(articles.id, ph("article")))
      .returning({ favoritesCount: articles.favoritesCount })
      .prepare(),
  };
});

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A row as an article in a list, as anyone sees it (`favorited` and `author.following` false: the reader's
 * flags are overlaid later). No `body`: the property is absent, not null.
 */
export function toListItem(row: ListRow) {
  return {
    slug: row.slug,
    title: row.title,
    description: row.description,
    tagList: JSON.parse(row.tagList) as string[],
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
    favorited: false,
    favoritesCount: row.favoritesCount,
    author: { username: row.authorUsername, bio: row.authorBio, image: row.authorImage, following: false },
  };
}

/** A row as the single-article representation, with `body`. */
export function toArticle(row: DetailRow) {
  return { ...toListItem(row), body: row.body };
}
