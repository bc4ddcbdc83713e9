import { Elysia, t } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { security, withExamples } from "../../http/docs.ts";
import { reply } from "../../http/etag.ts";
import { errorDoc } from "../../http/model.ts";
import { orUnverified, unverifiedDoc } from "../accounts/model.ts";
import {
  ArticleEnvelope,
  ArticleList,
  articleExample,
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

const noSuchArticle = errorDoc("No article has this slug", { article: ["not found"] });
const notYours = errorDoc("Neither the author (with a role that still writes articles) nor an admin", {
  article: ["forbidden"],
});
const favorited = (on: boolean) =>
  withExamples(ArticleEnvelope, {
    article: {
      ...articleExample,
      favorited: on,
      favoritesCount: articleExample.favoritesCount + (on ? 1 : -1),
    },
  });

export const articlesRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/articles", tags: ["Articles"] })
    .use(authPlugin(ctx))
    .get(
      "/api/articles",
      async ({ query, viewer, request, set }) => reply(request, set, await listArticles(ctx, query, viewer)),
      {
        optionalAuth: true,
        query: ListQuery,
        response: { 200: ArticleList },
        detail: {
          summary: "List articles",
          description:
            "Most recent first, filtered by `tag`, `author` and/or `favorited` (usernames; an unknown one gives an empty list); with `q`, a full-text search ranked by relevance, combinable with the same filters. `limit` defaults to 20 and is capped at 100. Items omit `body`. `favorited` and `author.following` are from the viewer's point of view.",
          security: security.optional,
        },
      },
    )
    .get(
      "/api/articles/feed",
      async ({ query, viewer, request, set }) => reply(request, set, await feedArticles(ctx, viewer, query)),
      {
        auth: true,
        query: FeedQuery,
        response: { 200: ArticleList },
        detail: {
          summary: "Feed",
          description:
            "Articles by authors the viewer follows, most recent first, paged like the list (`limit` defaults to 20, capped at 100). Items omit `body`.",
          security: security.required,
        },
      },
    )
    .post(
      "/api/articles",
      async ({ body, viewer, status }) => status(201, await createArticle(ctx, viewer, body.article)),
      {
        auth: true,
        body: CreateArticleBody,
        response: {
          201: ArticleEnvelope,
          403: orUnverified(
            errorDoc("The viewer's role may not write articles (only editors and admins do)", {
              article: ["forbidden"],
            }),
          ),
          422: errorDoc(
            "A field is missing, blank or too long, or there are too many tags",
            { title: ["can't be blank"] },
            { body: ["is too long (maximum is 100000 characters)"] },
            { tagList: ["has too many items (maximum is 20)"] },
          ),
        },
        detail: {
          summary: "Create an article",
          description:
            "Publish an article by the viewer. The slug is derived from the title (with a short random suffix when taken). Editors and admins only.",
          security: security.required,
        },
      },
    )
    .get(
      "/api/articles/:slug",
      async ({ params, viewer, request, set }) =>
        reply(request, set, await getArticle(ctx, params.slug, viewer)),
      {
        optionalAuth: true,
        params: SlugParams,
        response: { 200: ArticleEnvelope, ...moved(301), 404: noSuchArticle },
        detail: {
          summary: "Get an article",
          description:
            "One article, with its body. `favorited` and `author.following` are from the viewer's point of view (false for anonymous readers).",
          security: security.optional,
        },
      },
    )
    .put(
      "/api/articles/:slug",
      ({ params, body, viewer }) => updateArticle(ctx, viewer, params.slug, body.article),
      {
        auth: true,
        params: SlugParams,
        body: UpdateArticleBody,
        response: {
          200: withExamples(ArticleEnvelope, {
            article: {
              ...articleExample,
              slug: "did-you-train-your-dragon",
              title: "Did you train your dragon?",
              updatedAt: "2026-02-19T08:12:01.100Z",
            },
          }),
          ...moved(308),
          403: orUnverified(notYours),
          404: noSuchArticle,
          422: errorDoc("A field is blank or too long", { title: ["can't be blank"] }),
        },
        detail: {
          summary: "Update an article",
          description:
            "Author (or admin) only. Partial: only the fields sent change; an omitted `tagList` keeps the tags, `[]` removes them. A new title gives a new slug (see `article.slug` in the answer).",
          security: security.required,
        },
      },
    )
    .delete(
      "/api/articles/:slug",
      async ({ params, viewer, set }) => {
        await deleteArticle(ctx, viewer, params.slug);
        set.status = 204;
      },
      {
        auth: true,
        params: SlugParams,
        response: {
          204: t.Void({ description: "Deleted" }),
          ...moved(308),
          403: orUnverified(notYours),
          404: noSuchArticle,
        },
        detail: {
          summary: "Delete an article",
          description: "Author (or admin) only. Its comments and favorites are deleted with it.",
          security: security.required,
        },
      },
    )
    .post("/api/articles/:slug/favorite", ({ params, viewer }) => favoriteArticle(ctx, viewer, params.slug), {
      auth: true,
      params: SlugParams,
      response: { 200: favorited(true), ...moved(308), 403: unverifiedDoc, 404: noSuchArticle },
      detail: {
        summary: "Favorite an article",
        description:
          "Idempotent: favoriting twice counts once. Answers the article with `favorited: true` and its new `favoritesCount`.",
        security: security.required,
      },
    })
    .delete(
      "/api/articles/:slug/favorite",
      ({ params, viewer }) => unfavoriteArticle(ctx, viewer, params.slug),
      {
        auth: true,
        params: SlugParams,
        response: { 200: favorited(false), ...moved(308), 403: unverifiedDoc, 404: noSuchArticle },
        detail: {
          summary: "Unfavorite an article",
          description:
            "Idempotent: removing a favorite that is not there changes nothing. Answers the article with `favorited: false`.",
          security: security.required,
        },
      },
    );
