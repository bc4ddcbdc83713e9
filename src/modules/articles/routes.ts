import { Elysia, t } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { reply } from "../../http/etag.ts";
import { errors } from "../shared/model.ts";
import {
  ArticleEnvelope,
  ArticleList,
  CreateArticleBody,
  FeedQuery,
  ListQuery,
  moved,
  SlugParams,
  UpdateArticleBody,
} from "./model.ts";
import {
  createArticle,
  deleteArticle,
  favoriteArticle,
  feedArticles,
  getArticle,
  listArticles,
  unfavoriteArticle,
  updateArticle,
} from "./service.ts";

const token = [{ Token: [] }];

export const articlesRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/articles", tags: ["Articles"] })
    .use(authPlugin(ctx))
    .get(
      "/api/articles",
      ({ query, viewer, request, set }) => reply(request, set, listArticles(ctx, query, viewer)),
      {
        optionalAuth: true,
        query: ListQuery,
        response: { 200: ArticleList, ...errors(401, 422) },
        detail: {
          summary: "List articles",
          description:
            "Most recent first, filtered by `tag`, `author` and/or `favorited` (usernames); with `q`, a full-text search ranked by relevance, combinable with the same filters. `limit` defaults to 20 and is capped at 100. Items omit `body`. Answers carry a strong `ETag`; send it back in `If-None-Match` to get a 304 when nothing changed.",
        },
      },
    )
    .get(
      "/api/articles/feed",
      ({ query, viewer, request, set }) => reply(request, set, feedArticles(ctx, viewer, query)),
      {
        auth: true,
        query: FeedQuery,
        response: { 200: ArticleList, ...errors(401, 422) },
        detail: {
          summary: "Feed",
          description: "Articles by authors the viewer follows, most recent first.",
          security: token,
        },
      },
    )
    .post(
      "/api/articles",
      ({ body, viewer, status }) => status(201, createArticle(ctx, viewer, body.article)),
      {
        auth: true,
        body: CreateArticleBody,
        response: { 201: ArticleEnvelope, ...errors(401, 403, 413, 415, 422) },
        detail: { summary: "Create an article", description: "Editors and admins only.", security: token },
      },
    )
    .get(
      "/api/articles/:slug",
      ({ params, viewer, request, set }) => reply(request, set, getArticle(ctx, params.slug, viewer)),
      {
        optionalAuth: true,
        params: SlugParams,
        response: { 200: ArticleEnvelope, ...moved(301), ...errors(401, 404) },
        detail: { summary: "Get an article" },
      },
    )
    .put(
      "/api/articles/:slug",
      ({ params, body, viewer }) => updateArticle(ctx, viewer, params.slug, body.article),
      {
        auth: true,
        params: SlugParams,
        body: UpdateArticleBody,
        response: { 200: ArticleEnvelope, ...moved(308), ...errors(401, 403, 404, 413, 415, 422) },
        detail: {
          summary: "Update an article",
          description:
            "Author (or admin) only. Partial: an omitted `tagList` keeps the tags, `[]` removes them. A new title gives a new slug.",
          security: token,
        },
      },
    )
    .delete(
      "/api/articles/:slug",
      ({ params, viewer, set }) => {
        deleteArticle(ctx, viewer, params.slug);
        set.status = 204;
      },
      {
        auth: true,
        params: SlugParams,
        response: { 204: t.Void({ description: "Deleted" }), ...moved(308), ...errors(401, 403, 404) },
        detail: { summary: "Delete an article", description: "Author (or admin) only.", security: token },
      },
    )
    .post("/api/articles/:slug/favorite", ({ params, viewer }) => favoriteArticle(ctx, viewer, params.slug), {
      auth: true,
      params: SlugParams,
      response: { 200: ArticleEnvelope, ...moved(308), ...errors(401, 403, 404) },
      detail: { summary: "Favorite an article", description: "Idempotent.", security: token },
    })
    .delete(
      "/api/articles/:slug/favorite",
      ({ params, viewer }) => unfavoriteArticle(ctx, viewer, params.slug),
      {
        auth: true,
        params: SlugParams,
        response: { 200: ArticleEnvelope, ...moved(308), ...errors(401, 403, 404) },
        detail: { summary: "Unfavorite an article", description: "Idempotent.", security: token },
      },
    );
