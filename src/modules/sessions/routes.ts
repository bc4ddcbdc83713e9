/**
 * Session endpoints: refresh (rotate a refresh token for a new access token), logout (this session) and
 * logout-all (every session of the account). See ./service.ts and ./refresh.ts for the token model.
 */
import { Elysia, t } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { clientOf } from "../../http/client-ip.ts";
import { rateLimitMacro } from "../../http/rate-limit.ts";
import { errors } from "../shared/model.ts";
import { UserEnvelope } from "../users/model.ts";
import { refreshUser } from "../users/service.ts";
import { RefreshBody } from "./model.ts";
import { logout, logoutAll } from "./service.ts";

const token = [{ Token: [] }];

export const sessionsRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/sessions", tags: ["Users"] })
    .use(authPlugin(ctx))
    .use(rateLimitMacro(ctx))
    .post(
      "/api/users/refresh",
      ({ body, issueToken, request }) =>
        refreshUser(ctx, body.refreshToken, issueToken, { ip: clientOf(request).ip }),
      {
        body: RefreshBody,
        rateLimit: "refresh",
        response: { 200: UserEnvelope, ...errors(401, 413, 415, 422, 429) },
        detail: {
          summary: "Refresh the token",
          description:
            "Exchange a refresh token for a new access token and a new refresh token; the presented one is retired. Presenting a retired refresh token ends its whole session (all tokens descended from that login). No Authorization header needed.",
        },
      },
    )
    .post(
      "/api/users/logout",
      async ({ viewer, set }) => {
        await logout(ctx, viewer.sessionId);
        set.status = 204;
      },
      {
        auth: true,
        response: { 204: t.Void({ description: "Signed out" }), ...errors(401, 429) },
        detail: {
          summary: "Log out",
          description: "End this session: its access and refresh tokens stop working at once.",
          security: token,
        },
      },
    )
    .post(
      "/api/users/logout-all",
      async ({ viewer, set, request }) => {
        await logoutAll(ctx, viewer.id, { ip: clientOf(request).ip });
        set.status = 204;
      },
      {
        auth: true,
        response: { 204: t.Void({ description: "Signed out" }), ...errors(401, 429) },
        detail: {
          summary: "Log out everywhere",
          description: "End every session of the account, this one included.",
          security: token,
        },
      },
    );
