/** Comments on SQLite, with the author's public fields and the reader's `following` flag joined in. */
import { asc, eq, sql } from "drizzle-orm";
import type { CommentsRepo } from "../../../store/content.ts";
import type { SqliteDb } from "../client.ts";
import { articles, comments, follows, users } from "../schema.ts";
import { lazy } from "./lazy.ts";

const ph = (name: string) => sql.placeholder(name);

const fields = {
  id: comments.id,
  articleId: comments.articleId,
  createdAt: comments.createdAt,
  updatedAt: comments.updatedAt,
  body: comments.body,
  authorId: comments.authorId,
  authorUsername: users.username,
  authorBio: users.bio,
  authorImage: users.image,
  following: sql<number>`exists(select 1 from ${follows} where ${follows.followerId} = ${ph("viewer")} and ${follows.followeeId} = ${comments.authorId})`,
};

type Raw = { following: number } & Omit<Awaited<ReturnType<CommentsRepo["list"]>>[number], "following">;
const toRow = (r: Raw) => ({ ...r, following: r.following === 1 });

export function sqliteComments(db: SqliteDb): CommentsRepo {
  const q = lazy(() => ({
    list: db
      .select(fields)
      .from(comments)
      .innerJoin(users, eq(users.id, comments.authorId))
      .where(eq(comments.articleId, ph("articleId")))
      .orderBy(asc(comments.id))
      .limit(ph("limit"))
      .offset(ph("offset"))
      .prepare(),
    one: db
      .select(fields)
      .from(comments)
      .innerJoin(users, eq(users.id, comments.authorId))
      .where(eq(comments.id, ph("id")))
      .prepare(),
    head: db
      .select({
        id: comments.id,
        articleId: comments.articleId,
        authorId: comments.authorId,
        slug: articles.slug,
      })
      .from(comments)
      .innerJoin(articles, eq(articles.id, comments.articleId))
      .where(eq(comments.id, ph("id")))
      .prepare(),
    insert: db
      .insert(comments)
      .values({
        articleId: ph("articleId"),
        authorId: ph("authorId"),
        body: ph("body"),
        createdAt: ph("now"),
        updatedAt: ph("now"),
      })
      .returning({ id: comments.id })
      .prepare(),
    delete: db
      .delete(comments)
      .where(eq(comments.id, ph("id")))
      .prepare(),
  }));
  return {
    async list(articleId, viewer, page) {
      return q()
        .list.all({ articleId, viewer, ...page })
        .map(toRow);
    },
    async one(id, viewer) {
      const row = q().one.get({ id, viewer });
      return row && toRow(row);
    },
    async head(id) {
      return q().head.get({ id });
    },
    // RETURNING is read with .all(): .get() would leave the statement open and pin the WAL.
    async insert(comment) {
      return q().insert.all(comment)[0]!.id;
    },
    async delete(id) {
      q().delete.run({ id });
    },
  };
}
