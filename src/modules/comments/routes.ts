import { Elysia, t } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { moved, SlugParams } from "../articles/model.ts";
import { errors } from "../shared/model.ts";
import { CommentEnvelope, CommentList, CommentListQuery, CommentParams, CreateCommentBody } from "./model.ts";
import { addComment, deleteComment, listComments } from "./service.ts";

const token = [{ Token: [] }];

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
        response: { 200: CommentList, ...moved(301), ...errors(401, 404, 422) },
        detail: {
          summary: "List comments",
          description: "Oldest first, up to 1000 per page (`limit`, `offset`).",
        },
      },
    )
    .post(
      "/api/articles/:slug/comments",
      ({ params, body, viewer, status }) =>
        status(201, addComment(ctx, viewer, params.slug, body.comment.body)),
      {
        auth: true,
        params: SlugParams,
        body: CreateCommentBody,
        response: { 201: CommentEnvelope, ...moved(308), ...errors(401, 403, 404, 413, 415, 422) },
        detail: { summary: "Comment on an article", security: token },
      },
    )
    .delete(
      "/api/articles/:slug/comments/:id",
      ({ params, viewer, set }) => {
        deleteComment(ctx, viewer, params.slug, Number(params.id));
        set.status = 204;
      },
      {
        auth: true,
        params: CommentParams,
        response: { 204: t.Void({ description: "Deleted" }), ...moved(308), ...errors(401, 403, 404, 422) },
        detail: {
          summary: "Delete a comment",
          description: "The comment's author or an admin.",
          security: token,
        },
      },
    );
