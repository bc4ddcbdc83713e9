/**
 * The admin API for accounts and moderation, under /api/admin, every route behind the `admin` macro
 * (401 without a valid token, 403 unless the permission table grants "admin:access"). Other features add
 * their own admin routes in their modules (audit: src/modules/audit/routes.ts).
 */
import { Elysia, t } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { clientOf } from "../../http/client-ip.ts";
import { security } from "../../http/docs.ts";
import { errorDoc } from "../../http/model.ts";
import { deleteAccountAsAdmin } from "../accounts/service.ts";
import {
  AdminUserEnvelope,
  AdminUserList,
  ArticleParams,
  ChangeUserBody,
  CommentIdParams,
  UserListQuery,
  UsernameParams,
} from "./model.ts";
import { moderateArticle, moderateComment } from "./moderation.ts";
import { changeUser, listUsers } from "./users.ts";

export const adminRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/admin", tags: ["Admin"] })
    .use(authPlugin(ctx))
    .get("/api/admin/users", ({ query }) => listUsers(ctx, query), {
      admin: true,
      query: UserListQuery,
      response: { 200: AdminUserList },
      detail: {
        summary: "List users",
        description:
          "Oldest first, filtered by `q` (substring of username or email, any case, taken literally), `role` and `suspended`. `limit` defaults to 20, capped at 100.",
        security: security.admin,
      },
    })
    .patch(
      "/api/admin/users/:username",
      ({ params, body, viewer, request }) =>
        changeUser(ctx, viewer, params.username, body, { ip: clientOf(request).ip }),
      {
        admin: true,
        params: UsernameParams,
        body: ChangeUserBody,
        response: {
          200: AdminUserEnvelope,
          404: errorDoc("No user has this username", { user: ["not found"] }),
          409: errorDoc(
            "The change would leave no active (unsuspended) admin; nothing changed",
            { role: ["would leave no active admin"] },
            { suspended: ["would leave no active admin"] },
          ),
          422: errorDoc(
            "No known field, or an unknown role",
            { body: ["is invalid"] },
            { role: ["is invalid"] },
          ),
        },
        detail: {
          summary: "Change a user's role or suspension",
          description:
            "`role` applies on the user's next request. `suspended: true` ends every session of the account at once and refuses its logins; `false` reinstates it. Other fields are ignored; a change to the current value does nothing. Refused (409) if it would leave no active admin. Audited.",
          security: security.admin,
        },
      },
    )
    .delete(
      "/api/admin/users/:username",
      async ({ params, viewer, request, set }) => {
        await deleteAccountAsAdmin(ctx, viewer, params.username, { ip: clientOf(request).ip });
        set.status = 204;
      },
      {
        admin: true,
        params: UsernameParams,
        response: {
          204: t.Void({ description: "Deleted" }),
          404: errorDoc("No user has this username", { user: ["not found"] }),
          409: errorDoc("The account is the last active admin; nothing changed", {
            user: ["is the last active admin"],
          }),
        },
        detail: {
          summary: "Delete an account",
          description:
            "Deletes the account as `DELETE /api/user` does (sessions end at once; articles, comments, favorites and follows go; the username and address are free again), without its password. Audited with the admin and their address; the entry holds no name or address of the deleted account. The last active admin cannot be deleted (409).",
          security: security.admin,
        },
      },
    )
    .delete(
      "/api/admin/articles/:slug",
      async ({ params, viewer, request, set }) => {
        await moderateArticle(ctx, viewer, params.slug, { ip: clientOf(request).ip });
        set.status = 204;
      },
      {
        admin: true,
        params: ArticleParams,
        response: {
          204: t.Void({ description: "Deleted" }),
          404: errorDoc("No article has this slug", { article: ["not found"] }),
        },
        detail: {
          summary: "Delete any article",
          description: "Moderation: deletes the article with its comments and favorites. Audited.",
          security: security.admin,
        },
      },
    )
    .delete(
      "/api/admin/comments/:id",
      async ({ params, viewer, request, set }) => {
        await moderateComment(ctx, viewer, Number(params.id), { ip: clientOf(request).ip });
        set.status = 204;
      },
      {
        admin: true,
        params: CommentIdParams,
        response: {
          204: t.Void({ description: "Deleted" }),
          404: errorDoc("No comment has this id", { comment: ["not found"] }),
        },
        detail: {
          summary: "Delete any comment",
          description:
            "Moderation: deletes the comment whatever its article, and tells the article's realtime subscribers (`comment.deleted`). Audited.",
          security: security.admin,
        },
      },
    );
