import { Elysia, t } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { security } from "../../http/docs.ts";
import { errorDoc } from "../../http/model.ts";
import { orUnverified } from "../accounts/model.ts";
import { moved, SlugParams } from "../articles/model.ts";
import { CommentEnvelope, CommentList, CommentListQuery, CommentParams, CreateCommentBody } from "./model.ts";
import { addComment, deleteComment, listComments } from "./service.ts";

const noSuchArticle = errorDoc("No article has this slug", { article: ["not found"] });
const disabled = { comments: ["are disabled"] };

export const commentsRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/comments", tags: ["Comments"] })
    .use(authPlugin(ctx))
    .get(
      "/api/articles/:slug/comments",
      ({ params, query, viewer }) => listComments(ctx, params.slug, query, viewer),
      {
        optionalAuth: true,
        params: SlugParams,
        query: CommentListQuery,
        response: { 200: CommentList, ...moved(301), 404: noSuchArticle },
        detail: {
          summary: "List comments",
          description:
            "The article's comments, oldest first: up to 1000 per page by default (RealWorld clients read them all at once); `limit` and `offset` page further. `author.following` is from the viewer's point of view.",
          security: security.optional,
        },
      },
    )
    .post(
      "/api/articles/:slug/comments",
      async ({ params, body, viewer, status }) =>
        status(201, await addComment(ctx, viewer, params.slug, body.comment.body)),
      {
        auth: true,
        params: SlugParams,
        body: CreateCommentBody,
        response: {
          201: CommentEnvelope,
          ...moved(308),
          403: orUnverified(
            errorDoc(
              "Comments are switched off for this user (feature flag `comments`, or outside its rollout)",
              disabled,
            ),
          ),
          404: noSuchArticle,
          422: errorDoc("The comment is blank or too long", { body: ["can't be blank"] }),
        },
        detail: {
          summary: "Comment on an article",
          description:
            "Adds a comment by the viewer; it reaches realtime subscribers of `articles:<slug>` at once (`comment.created`).",
          security: security.required,
        },
      },
    )
    .delete(
      "/api/articles/:slug/comments/:id",
      async ({ params, viewer, set }) => {
        await deleteComment(ctx, viewer, params.slug, Number(params.id));
        set.status = 204;
      },
      {
        auth: true,
        params: CommentParams,
        response: {
          204: t.Void({ description: "Deleted" }),
          ...moved(308),
          403: orUnverified(
            errorDoc(
              "Neither the comment's author nor an admin, or comments are switched off for this user (feature flag `comments`)",
              { comment: ["forbidden"] },
              disabled,
            ),
          ),
          404: errorDoc(
            "No article has this slug, or the comment is not on it",
            { article: ["not found"] },
            { comment: ["not found"] },
          ),
        },
        detail: {
          summary: "Delete a comment",
          description:
            "The comment's author or an admin (admins may also use `DELETE /api/admin/comments/{id}`).",
          security: security.required,
        },
      },
    );
