/**
 * The article read queries, each prepared once per connection. A list is one query for the page (with the
 * viewer's favorited/following flags and the ordered tagList as correlated subqueries: no N+1) and one for the
 * total. Filters are compiled into one statement per combination, never `(? IS NULL OR …)`, so every
 * combination keeps its index: author → articles_author_idx, tag → article_tags_tag_idx, favorited →
 * favorites' primary key, feed → follows' primary key. The anonymous viewer is id 0, which matches nothing.
 */
import { and, count, desc, eq, type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { articles, articleTags, favorites, follows, tags, users } from "../../db/schema.ts";
import { perOwner } from "../../lib/memo.ts";

const viewer = sql.placeholder("viewer");

const listFields = {
  id: articles.id,
  slug: articles.slug,
  title: articles.title,
  description: articles.description,
  createdAt: articles.createdAt,
  updatedAt: articles.updatedAt,
  favoritesCount: articles.favoritesCount,
  tagList: sql<string>`(select json_group_array(name) from (select ${tags.name} as name from ${articleTags} join ${tags} on ${tags.id} = ${articleTags.tagId} where ${articleTags.articleId} = ${articles.id} order by ${articleTags.position}))`,
  favorited: sql<number>`exists(select 1 from ${favorites} where ${favorites.userId} = ${viewer} and ${favorites.articleId} = ${articles.id})`,
  authorUsername: users.username,
  authorBio: users.bio,
  authorImage: users.image,
  following: sql<number>`exists(select 1 from ${follows} where ${follows.followerId} = ${viewer} and ${follows.followeeId} = ${articles.authorId})`,
};

export interface ListRow {
  id: number;
  slug: string;
  title: string;
  description: string;
  createdAt: number;
  updatedAt: number;
  favoritesCount: number;
  tagList: string;
  favorited: number;
  authorUsername: string;
  authorBio: string | null;
  authorImage: string | null;
  following: number;
}
export interface DetailRow extends ListRow {
  body: string;
}

export interface ListShape {
  tag: boolean;
  author: boolean;
  favorited: boolean;
  feed: boolean;
}

const userIdByName = (name: string) =>
  sql`(select ${users.id} from ${users} where lower(${users.username}) = lower(${sql.placeholder(name)}))`;

function filters(shape: ListShape): SQL | undefined {
  const where: SQL[] = [];
  if (shape.tag) {
    where.push(
      sql`${articles.id} in (select ${articleTags.articleId} from ${articleTags} where ${articleTags.tagId} = (select ${tags.id} from ${tags} where ${tags.name} = ${sql.placeholder("tag")}))`,
    );
  }
  if (shape.author) where.push(sql`${articles.authorId} = ${userIdByName("author")}`);
  if (shape.favorited) {
    where.push(
      sql`${articles.id} in (select ${favorites.articleId} from ${favorites} where ${favorites.userId} = ${userIdByName("favorited")})`,
    );
  }
  if (shape.feed) {
    where.push(
      sql`${articles.authorId} in (select ${follows.followeeId} from ${follows} where ${follows.followerId} = ${viewer})`,
    );
  }
  return where.length > 0 ? and(...where) : undefined;
}

function buildList(db: Db, shape: ListShape) {
  const where = filters(shape);
  return {
    page: db
      .select(listFields)
      .from(articles)
      .innerJoin(users, eq(users.id, articles.authorId))
      .where(where)
      .orderBy(desc(articles.id))
      .limit(sql.placeholder("limit"))
      .offset(sql.placeholder("offset"))
      .prepare(),
    count: db.select({ n: count() }).from(articles).where(where).prepare(),
  };
}

export const articleQueries = perOwner((db: Db) => {
  const lists = new Map<string, ReturnType<typeof buildList>>();
  return {
    /** The prepared page and count statements for one filter combination (at most 16, built on first use). */
    list(shape: ListShape) {
      const key = `${+shape.tag}${+shape.author}${+shape.favorited}${+shape.feed}`;
      let built = lists.get(key);
      if (!built) {
        built = buildList(db, shape);
        lists.set(key, built);
      }
      return built;
    },
    bySlug: db
      .select({ ...listFields, body: articles.body })
      .from(articles)
      .innerJoin(users, eq(users.id, articles.authorId))
      .where(eq(articles.slug, sql.placeholder("slug")))
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
      .where(eq(articles.slug, sql.placeholder("slug")))
      .prepare(),
  };
});

const iso = (ms: number) => new Date(ms).toISOString();

/** A row as an article in a list: no `body` (the property is absent, not null). */
export function toListItem(row: ListRow) {
  return {
    slug: row.slug,
    title: row.title,
    description: row.description,
    tagList: JSON.parse(row.tagList) as string[],
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
    favorited: row.favorited === 1,
    favoritesCount: row.favoritesCount,
    author: {
      username: row.authorUsername,
      bio: row.authorBio,
      image: row.authorImage,
      following: row.following === 1,
    },
  };
}

/** A row as the single-article representation, with `body`. */
export function toArticle(row: DetailRow) {
  return { ...toListItem(row), body: row.body };
}
