/**
 * Articles on Postgres: rows, lists, tags, favourites and the full-text entry. The twin of
 * ../../sqlite/repos/articles.ts, statement for statement:
 * - A page is read in two steps, ids then rows by primary key. Each filter combination is its own statement
 *   (never `($1 IS NULL OR …)`), so each keeps its index: tag → article_tags_tag_idx, author →
 *   articles_author_idx (author_id, id), favorited → the favorites primary key, none → the primary key.
 * - Id lists travel as one array parameter (`= any($1)`), where SQLite binds a JSON array to json_each.
 * - tagList is `array(… order by name collate "C")`: a text[] that Bun reads as a JS array, in code point
 *   order (the C collation compares UTF-8 bytes, which sort as code points do), as SQLite's BINARY collation.
 * - favorites_count moves with greatest(n + delta, 0), SQLite's scalar max(a, b).
 * - The search entry is written from the row read back here, as SQLite's tokens (./search-text.ts).
 * - Former slugs (table `former_slugs`) map every slug an article had to it; a live slug always wins.
 */
import { and, count, desc, eq, type SQL, sql } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { ArticleDetailRow, ArticleRow, ArticlesRepo, ListFilter } from "../../../store/content.ts";
import { UniqueViolation } from "../../../store/errors.ts";
import {
  articles,
  articlesSearch,
  articleTags,
  favorites,
  follows,
  formerSlugs,
  tags,
  users,
} from "../schema.ts";
import { documentVector, type SearchTokenizer } from "./search-text.ts";
import { lazy, type PgDb, ph } from "./shared.ts";

const author = (column: "username" | "bio" | "image") =>
  sql.raw(`(select users.${column} from users where users.id = "articles"."author_id")`);

/** The article's tag names in code point order, spelled out with qualified names (see the SQLite twin). */
const tagArray = sql.raw(
  `array(select t.name from article_tags at join tags t on t.id = at.tag_id where at.article_id = "articles"."id" order by t.name collate "C")`,
);
/** Any UTF-16 code unit above ASCII: ASCII text is indexed the same by every version of the index. */
const NON_ASCII = /[\u0080-\uffff]/;

const rowFields = {
  id: articles.id,
  slug: articles.slug,
  title: articles.title,
  description: articles.description,
  createdAt: articles.createdAt,
  updatedAt: articles.updatedAt,
  favoritesCount: articles.favoritesCount,
  authorId: articles.authorId,
  tagList: sql<string[]>`${tagArray}`,
  authorUsername: sql<string>`${author("username")}`,
  authorBio: sql<string | null>`${author("bio")}`,
  authorImage: sql<string | null>`${author("image")}`,
};

const tagId = sql`(select ${tags.id} from ${tags} where ${tags.name} = ${ph("tag")})`;
const anyId = (column: PgColumn, name: string) => sql`${column} = any(${ph(name)}::bigint[])`;

/** The table a filter's ids come from, its id column, and its condition (the SQLite twin's shapes). */
function idSource(db: PgDb, f: ListFilter): { table: PgTable; id: PgColumn; where?: SQL } {
  const favoritedBy = (id: PgColumn) =>
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

function buildList(db: PgDb, filter: ListFilter) {
  const { table, id, where } = idSource(db, filter);
  return {
    ids: db
      .select({ id })
      .from(table)
      .where(where)
      .orderBy(desc(id))
      .limit(ph("limit"))
      .offset(ph("offset"))
      .prepare("article_ids"),
    count: db.select({ n: count() }).from(table).where(where).prepare("article_count"),
  };
}

const shapeKey = (f: ListFilter) =>
  `${+(f.tag !== undefined)}${+(f.author !== undefined)}${+(f.favorited !== undefined)}${+(f.feed !== undefined)}`;

const paramsOf = (f: ListFilter) => ({
  ...(f.tag !== undefined && { tag: f.tag }),
  ...(f.author !== undefined && { author: f.author }),
  ...(f.favorited !== undefined && { favorited: f.favorited }),
  ...(f.feed !== undefined && { feed: f.feed }),
});

export function pgArticles(db: PgDb, tokenizer: SearchTokenizer): ArticlesRepo {
  const lists = new Map<string, ReturnType<typeof buildList>>();
  const list = (f: ListFilter) => {
    const key = shapeKey(f);
    let built = lists.get(key);
    if (!built) {
      built = buildList(db, f);
      lists.set(key, built);
    }
    return built;
  };
  const q = lazy(() => ({
    byIds: db.select(rowFields).from(articles).where(anyId(articles.id, "ids")).prepare("article_rows"),
    bySlug: db
      .select({ ...rowFields, body: articles.body })
      .from(articles)
      .where(eq(articles.slug, ph("slug")))
      .prepare("article_by_slug"),
    head: db
      .select({
        id: articles.id,
        slug: articles.slug,
        authorId: articles.authorId,
        updatedAt: articles.updatedAt,
      })
      .from(articles)
      .where(eq(articles.slug, ph("slug")))
      .prepare("article_head"),
    viewerFlags: db
      .select({
        favorited: sql<boolean>`exists(select 1 from ${favorites} where ${favorites.userId} = ${ph("viewer")} and ${favorites.articleId} = ${ph("article")})`,
        following: sql<boolean>`exists(select 1 from ${follows} where ${follows.followerId} = ${ph("viewer")} and ${follows.followeeId} = ${ph("author")})`,
      })
      .from(users)
      .where(eq(users.id, ph("viewer")))
      .prepare("article_viewer_flags"),
    favoritedAmong: db
      .select({ id: favorites.articleId })
      .from(favorites)
      .where(and(eq(favorites.userId, ph("viewer")), anyId(favorites.articleId, "ids")))
      .prepare("article_favorited_among"),
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
      // A taken slug inserts nothing (and does not abort the unit's transaction): see insert() below.
      .onConflictDoNothing({ target: articles.slug })
      .returning({ id: articles.id })
      .prepare("article_insert"),
    /** One statement for any set of changes: a null parameter keeps the column as it is. */
    update: db
      .update(articles)
      .set({
        slug: sql`${ph("slug")}`,
        updatedAt: sql`${ph("updatedAt")}`,
        title: sql`coalesce(${ph("title")}::text, ${articles.title})`,
        description: sql`coalesce(${ph("description")}::text, ${articles.description})`,
        body: sql`coalesce(${ph("body")}::text, ${articles.body})`,
      })
      .where(eq(articles.id, ph("article")))
      .prepare("article_update"),
    unlinkTags: db
      .delete(articleTags)
      .where(eq(articleTags.articleId, ph("article")))
      .prepare("article_unlink_tags"),
    tagNames: db
      .select({ name: tags.name })
      .from(articleTags)
      .innerJoin(tags, eq(tags.id, articleTags.tagId))
      .where(eq(articleTags.articleId, ph("article")))
      .orderBy(sql`${tags.name} collate "C"`)
      .prepare("article_tag_names"),
    /** What the search entry is made of: the row and its tags. */
    searchSource: db
      .select({
        title: articles.title,
        description: articles.description,
        body: articles.body,
        tags: sql<string>`coalesce((select string_agg(t.name, ' ') from article_tags at join tags t on t.id = at.tag_id where at.article_id = "articles"."id"), '')`,
      })
      .from(articles)
      .where(eq(articles.id, ph("article")))
      .prepare("article_search_source"),
    /** Ids after `:after`, with all their text: the search backfill looks for non-ASCII among them. */
    textAfter: db
      .select({
        id: articles.id,
        text: sql<string>`${articles.title} || ${articles.description} || ${articles.body} || coalesce((select string_agg(t.name, '') from article_tags at join tags t on t.id = at.tag_id where at.article_id = "articles"."id"), '')`,
      })
      .from(articles)
      .where(sql`${articles.id} > ${ph("after")}`)
      .orderBy(articles.id)
      .limit(ph("limit"))
      .prepare("article_text_after"),
    currentSlug: db
      .select({ slug: articles.slug })
      .from(formerSlugs)
      .innerJoin(articles, eq(articles.id, formerSlugs.articleId))
      .where(eq(formerSlugs.slug, ph("slug")))
      .prepare("article_current_slug"),
    forgetFormer: db
      .delete(formerSlugs)
      .where(eq(formerSlugs.slug, ph("slug")))
      .prepare("article_forget_former"),
    rememberFormer: db
      .insert(formerSlugs)
      .values({ slug: ph("slug"), articleId: ph("article"), replacedAt: ph("now") })
      .onConflictDoUpdate({
        target: formerSlugs.slug,
        set: { articleId: sql`excluded.article_id`, replacedAt: sql`excluded.replaced_at` },
      })
      .prepare("article_remember_former"),
    delete: db
      .delete(articles)
      .where(eq(articles.id, ph("article")))
      .prepare("article_delete"),
    favorite: db
      .insert(favorites)
      .values({ userId: ph("user"), articleId: ph("article") })
      .onConflictDoNothing()
      .returning({ articleId: favorites.articleId })
      .prepare("article_favorite"),
    unfavorite: db
      .delete(favorites)
      .where(and(eq(favorites.userId, ph("user")), eq(favorites.articleId, ph("article"))))
      .returning({ articleId: favorites.articleId })
      .prepare("article_unfavorite"),
    bumpFavorites: db
      .update(articles)
      .set({ favoritesCount: sql`greatest(${articles.favoritesCount} + ${ph("delta")}::int, 0)` })
      .where(eq(articles.id, ph("article")))
      .returning({ favoritesCount: articles.favoritesCount })
      .prepare("article_bump_favorites"),
  }));

  /** The article's search entry afresh, from its current row and tags. */
  const writeIndex = async (id: number) => {
    const [row] = await q().searchSource.execute({ article: id });
    if (!row) return;
    const vector = documentVector(tokenizer, [
      { text: row.title, weight: "A" },
      { text: row.tags, weight: "B" },
      { text: row.description, weight: "C" },
      { text: row.body, weight: "D" },
    ]);
    const document = sql`${vector}::tsvector`;
    await db
      .insert(articlesSearch)
      .values({ articleId: id, document })
      .onConflictDoUpdate({ target: articlesSearch.articleId, set: { document } });
  };

  return {
    async bySlug(slug) {
      const [row] = await q().bySlug.execute({ slug });
      return row as ArticleDetailRow | undefined;
    },
    async headBySlug(slug) {
      const [row] = await q().head.execute({ slug });
      return row;
    },
    async byIds(ids) {
      if (ids.length === 0) return [];
      return (await q().byIds.execute({ ids: [...ids] })) as ArticleRow[];
    },
    async pageIds(filter, page) {
      const rows = await list(filter).ids.execute({ ...paramsOf(filter), ...page });
      return rows.map((r) => r.id as number);
    },
    async count(filter) {
      const [row] = await list(filter).count.execute(paramsOf(filter));
      return row?.n ?? 0;
    },
    async viewerFlags(viewer, article, author) {
      const [flags] = await q().viewerFlags.execute({ viewer, article, author });
      return flags && { favorited: flags.favorited, following: flags.following };
    },
    async favoritedAmong(viewer, ids) {
      if (ids.length === 0) return [];
      const rows = await q().favoritedAmong.execute({ viewer, ids: [...ids] });
      return rows.map((r) => r.id);
    },
    async insert(a) {
      const [row] = await q().insert.execute({ ...a });
      if (!row) throw new UniqueViolation("articles_slug_uq");
      return row.id;
    },
    async update(id, c) {
      await q().update.execute({
        article: id,
        slug: c.slug,
        updatedAt: c.updatedAt,
        title: c.title ?? null,
        description: c.description ?? null,
        body: c.body ?? null,
      });
    },
    async setTags(id, names) {
      const s = q();
      await s.unlinkTags.execute({ article: id });
      if (names.length === 0) return;
      // One array parameter for any number of names (a bare JS array would become a list of parameters).
      const list = sql.param([...names]);
      await db.execute(sql`insert into ${tags} (name) select unnest(${list}::text[]) on conflict do nothing`);
      await db.execute(sql`insert into ${articleTags} (article_id, tag_id)
        select ${id}::bigint, t.id from unnest(${list}::text[]) as n(name) join ${tags} t on t.name = n.name`);
    },
    async tagNames(id) {
      const rows = await q().tagNames.execute({ article: id });
      return rows.map((r) => r.name);
    },
    reindex: writeIndex,
    async reindexAfter(after, limit) {
      const rows = await q().textAfter.execute({ after, limit });
      for (const row of rows) if (NON_ASCII.test(row.text)) await writeIndex(row.id);
      return rows.length === limit ? rows.at(-1)!.id : undefined;
    },
    async currentSlugOf(formerSlug) {
      const [row] = await q().currentSlug.execute({ slug: formerSlug });
      return row?.slug;
    },
    async takeSlug(slug) {
      await q().forgetFormer.execute({ slug });
    },
    async rememberFormerSlug(article, slug, now) {
      await q().rememberFormer.execute({ slug, article, now });
    },
    async delete(id) {
      // Comments, favourites, tag links and the search entry go by ON DELETE CASCADE.
      await q().delete.execute({ article: id });
    },
    async favorite(user, article) {
      return (await q().favorite.execute({ user, article })).length > 0;
    },
    async unfavorite(user, article) {
      return (await q().unfavorite.execute({ user, article })).length > 0;
    },
    async bumpFavorites(article, delta) {
      const [row] = await q().bumpFavorites.execute({ article, delta });
      return row?.favoritesCount ?? 0;
    },
  };
}
