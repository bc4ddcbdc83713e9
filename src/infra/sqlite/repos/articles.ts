/**
 * Articles on SQLite: rows, lists, tags, favourites and the full-text entry.
 *
 * A page is read in two steps. First the ids: a small query per filter combination that walks one covering
 * index newest-first and stops after offset + limit entries (tag → article_tags_tag_idx, author →
 * articles_author_idx, favorited → favorites' primary key, none → articles_id_idx), so the first pages cost
 * the same at 100 or 100,000 articles, and a deep offset costs index entries, not rows. Then the rows of
 * those ids, by primary key, with author and tagList. The feed is the exception that cannot stop early: it
 * reads the followed authors' article ids (a covering index range per author) and sorts them, which is work
 * proportional to what those authors wrote, not to the table. tests/perf/query-plans.test.ts holds every
 * shape to its plan. Filters are compiled into one statement per combination (never `(? IS NULL OR …)`), so
 * each keeps its index.
 *
 * Author fields and tags come from correlated subqueries on primary keys rather than a join: measured on the
 * benchmark corpus, joining users made the one-row lookup 3.4× slower (21 → 6 µs). They are spelled out in
 * SQL with qualified names, because Drizzle leaves columns unqualified in a one-table select and an
 * unqualified "id" inside a subquery would be the inner table's. `tagList` is in code point order (`order by`
 * a text column uses SQLite's BINARY collation, which sorts UTF-8 as code points do), the order
 * src/lib/collation.ts gives the tags of write events.
 *
 * The full-text entry (drizzle/sqlite/0002_search.sql: FTS5, contentless, rowid = articles.id) is written
 * from the row and its tags through `indexText` (src/lib/search-text.ts) in the unit of work that changed
 * them; a delete trigger removes it with the row. Former slugs (table `former_slugs`) map every slug an
 * article had to it, so a chain of renames resolves in one hop; a live slug always wins.
 */
import { and, eq, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { indexText } from "../../../lib/search-text.ts";
import type { ArticleDetailRow, ArticleRow, ArticlesRepo } from "../../../store/content.ts";
import type { SqliteDb } from "../client.ts";
import { articles, articleTags, favorites, follows, formerSlugs, tags, users } from "../schema.ts";
import { listStatements, paramsOf } from "./article-lists.ts";
import { articlesFts } from "./fts-table.ts";
import { jsonList, lazy } from "./lazy.ts";

const ph = (name: string) => sql.placeholder(name);
/** Any UTF-16 code unit above ASCII: ASCII text is indexed the same by every version of indexText. */
const NON_ASCII = /[\u0080-\uffff]/;
const inJson = (column: SQLiteColumn, name: string) =>
  sql`${column} in (select value from json_each(${ph(name)}))`;

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

type RawRow = Omit<ArticleRow, "tagList"> & { tagList: string };
const toRow = <R extends RawRow>(r: R) => ({ ...r, tagList: JSON.parse(r.tagList) as string[] });

/**
 * Every statement of the articles repository, prepared on first use; exported so that
 * tests/perf/query-plans.test.ts can hold each one to its plan.
 */
export function articleStatements(db: SqliteDb) {
  const list = listStatements(db);
  const names = sql`json_each(${ph("names")})`;
  const q = lazy(() => ({
    byIds: db.select(rowFields).from(articles).where(inJson(articles.id, "ids")).prepare(),
    bySlug: db
      .select({ ...rowFields, body: articles.body })
      .from(articles)
      .where(eq(articles.slug, ph("slug")))
      .prepare(),
    head: db
      .select({
        id: articles.id,
        slug: articles.slug,
        authorId: articles.authorId,
        updatedAt: articles.updatedAt,
      })
      .from(articles)
      .where(eq(articles.slug, ph("slug")))
      .prepare(),
    viewerFlags: db
      .select({
        favorited: sql<number>`exists(select 1 from ${favorites} where ${favorites.userId} = ${ph("viewer")} and ${favorites.articleId} = ${ph("article")})`,
        following: sql<number>`exists(select 1 from ${follows} where ${follows.followerId} = ${ph("viewer")} and ${follows.followeeId} = ${ph("author")})`,
      })
      .from(users)
      .where(eq(users.id, ph("viewer")))
      .prepare(),
    favoritedAmong: db
      .select({ id: favorites.articleId })
      .from(favorites)
      .where(and(eq(favorites.userId, ph("viewer")), inJson(favorites.articleId, "ids")))
      .prepare(),
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
    /** One statement for any set of changes: a null parameter keeps the column as it is. */
    update: db
      .update(articles)
      .set({
        slug: sql`${ph("slug")}`,
        updatedAt: sql`${ph("updatedAt")}`,
        title: sql`coalesce(${ph("title")}, ${articles.title})`,
        description: sql`coalesce(${ph("description")}, ${articles.description})`,
        body: sql`coalesce(${ph("body")}, ${articles.body})`,
      })
      .where(eq(articles.id, ph("article")))
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
    unindex: db
      .delete(articlesFts)
      .where(eq(articlesFts.rowid, ph("article")))
      .prepare(),
    /** What the full-text entry is written from: the row's text and its tags. */
    indexSource: db
      .select({
        title: articles.title,
        description: articles.description,
        body: articles.body,
        tags: sql<string>`coalesce((select group_concat(t.name, ' ') from article_tags at join tags t on t.id = at.tag_id where at.article_id = "articles"."id"), '')`,
      })
      .from(articles)
      .where(eq(articles.id, ph("article")))
      .prepare(),
    index: db
      .insert(articlesFts)
      .values({
        rowid: ph("article"),
        title: ph("title"),
        description: ph("description"),
        body: ph("body"),
        tags: ph("tags"),
      })
      .prepare(),
    /** Ids after `:after`, with all their text: the search backfill looks for non-ASCII among them. */
    textAfter: db
      .select({
        id: articles.id,
        text: sql<string>`${articles.title} || ${articles.description} || ${articles.body} || coalesce((select group_concat(t.name, '') from article_tags at join tags t on t.id = at.tag_id where at.article_id = "articles"."id"), '')`,
      })
      .from(articles)
      .where(sql`${articles.id} > ${ph("after")}`)
      .orderBy(articles.id)
      .limit(ph("limit"))
      .prepare(),
    currentSlug: db
      .select({ slug: articles.slug })
      .from(formerSlugs)
      .innerJoin(articles, eq(articles.id, formerSlugs.articleId))
      .where(eq(formerSlugs.slug, ph("slug")))
      .prepare(),
    forgetFormer: db
      .delete(formerSlugs)
      .where(eq(formerSlugs.slug, ph("slug")))
      .prepare(),
    rememberFormer: db
      .insert(formerSlugs)
      .values({ slug: ph("slug"), articleId: ph("article"), replacedAt: ph("now") })
      .onConflictDoUpdate({
        target: formerSlugs.slug,
        set: { articleId: sql`excluded.article_id`, replacedAt: sql`excluded.replaced_at` },
      })
      .prepare(),
    delete: db
      .delete(articles)
      .where(eq(articles.id, ph("article")))
      .prepare(),
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
    bumpFavorites: db
      .update(articles)
      .set({ favoritesCount: sql`max(${articles.favoritesCount} + ${ph("delta")}, 0)` })
      .where(eq(articles.id, ph("article")))
      .returning({ favoritesCount: articles.favoritesCount })
      .prepare(),
  }));
  return { list, q };
}

export function sqliteArticles(db: SqliteDb): ArticlesRepo {
  const { list, q } = articleStatements(db);

  /** The article's full-text entry afresh, from its current row and tags. */
  const writeIndex = (id: number) => {
    const s = q();
    s.unindex.run({ article: id });
    const row = s.indexSource.get({ article: id });
    if (!row) return;
    s.index.run({
      article: id,
      title: indexText(row.title),
      description: indexText(row.description),
      body: indexText(row.body),
      tags: indexText(row.tags),
    });
  };

  return {
    async bySlug(slug) {
      const row = q().bySlug.get({ slug });
      return row ? (toRow(row) as ArticleDetailRow) : undefined;
    },
    async headBySlug(slug) {
      return q().head.get({ slug });
    },
    async byIds(ids) {
      if (ids.length === 0) return [];
      return q()
        .byIds.all({ ids: jsonList(ids) })
        .map(toRow);
    },
    async pageIds(filter, page) {
      return list(filter)
        .ids.all({ ...paramsOf(filter), ...page })
        .map((r) => r.id as number);
    },
    async count(filter) {
      return list(filter).count.get(paramsOf(filter))?.n ?? 0;
    },
    async viewerFlags(viewer, article, author) {
      const flags = q().viewerFlags.get({ viewer, article, author });
      return flags && { favorited: flags.favorited === 1, following: flags.following === 1 };
    },
    async favoritedAmong(viewer, ids) {
      if (ids.length === 0) return [];
      return q()
        .favoritedAmong.all({ viewer, ids: jsonList(ids) })
        .map((r) => r.id);
    },
    // RETURNING is read with .all(): .get() would leave the statement open and pin the WAL.
    async insert(a) {
      return q().insert.all({ ...a })[0]!.id;
    },
    async update(id, c) {
      q().update.run({
        article: id,
        slug: c.slug,
        updatedAt: c.updatedAt,
        title: c.title ?? null,
        description: c.description ?? null,
        body: c.body ?? null,
      });
    },
    async setTags(id, tagList) {
      const s = q();
      s.unlinkTags.run({ article: id });
      if (tagList.length === 0) return;
      const names = jsonList(tagList);
      s.insertTags.run({ names });
      s.linkTags.run({ article: id, names });
    },
    async tagNames(id) {
      return q()
        .tagNames.all({ article: id })
        .map((r) => r.name);
    },
    async reindex(id) {
      writeIndex(id);
    },
    async reindexAfter(after, limit) {
      const rows = q().textAfter.all({ after, limit });
      for (const row of rows) if (NON_ASCII.test(row.text)) writeIndex(row.id);
      return rows.length === limit ? rows.at(-1)!.id : undefined;
    },
    async currentSlugOf(formerSlug) {
      return q().currentSlug.get({ slug: formerSlug })?.slug;
    },
    async takeSlug(slug) {
      q().forgetFormer.run({ slug });
    },
    async rememberFormerSlug(article, slug, now) {
      q().rememberFormer.run({ slug, article, now });
    },
    async delete(id) {
      // Comments, favorites and tag links go by ON DELETE CASCADE, the search entry by trigger.
      q().delete.run({ article: id });
    },
    async favorite(user, article) {
      return q().favorite.all({ user, article }).length > 0;
    },
    async unfavorite(user, article) {
      return q().unfavorite.all({ user, article }).length > 0;
    },
    async bumpFavorites(article, delta) {
      return q().bumpFavorites.all({ article, delta })[0]?.favoritesCount ?? 0;
    },
  };
}
