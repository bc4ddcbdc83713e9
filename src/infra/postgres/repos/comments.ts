/** Comments on Postgres, with the author's public fields and the reader's `following` flag joined in. */
import { asc, eq, sql } from "drizzle-orm";
import type { CommentRow, CommentsRepo } from "../../../store/content.ts";
import { articles, comments, follows, users } from "../schema.ts";
import { lazy, type PgDb, ph } from "./shared.ts";

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
  following: sql<boolean>`exists(select 1 from ${follows} where ${follows.followerId} = ${ph("viewer")} and ${follows.followeeId} = ${comments.authorId})`,
};

export function pgComments(db: PgDb): CommentsRepo {
  const q = lazy(() => ({
    list: db
      .select(fields)
      .from(comments)
      .innerJoin(users, eq(users.id, comments.authorId))
      .where(eq(comments.articleId, ph("articleId")))
      .orderBy(asc(comments.id))
      .limit(ph("limit"))
      .offset(ph("offset"))
      .prepare("comment_list"),
    one: db
      .select(fields)
      .from(comments)
      .innerJoin(users, eq(users.id, comments.authorId))
      .where(eq(comments.id, ph("id")))
      .prepare("comment_one"),
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
      .prepare("comment_head"),
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
      .prepare("comment_insert"),
    delete: db
      .delete(comments)
      .where(eq(comments.id, ph("id")))
      .prepare("comment_delete"),
  }));
  return {
    async list(articleId, viewer, page) {
      return (await q().list.execute({ articleId, viewer, ...page })) as CommentRow[];
    },
    async one(id, viewer) {
      const [row] = await q().one.execute({ id, viewer });
      return row as CommentRow | undefined;
    },
    async head(id) {
      const [row] = await q().head.execute({ id });
      return row;
    },
    async insert(comment) {
      const [row] = await q().insert.execute(comment);
      return row!.id;
    },
    async delete(id) {
      await q().delete.execute({ id });
    },
  };
}
