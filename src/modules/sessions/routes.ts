/**
 * Session endpoints: refresh (rotate a refresh token for a new access token), logout (this session) and
 * logout-all (every session of the account). See ./service.ts and ./refresh.ts for the token model.
 */
import { Elysia, t } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { clientOf } from "../../http/client-ip.ts";
import { security } from "../../http/docs.ts";
import { errorDoc } from "../../http/model.ts";
import { rateLimitMacro } from "../../http/rate-limit.ts";
import { SignedInEnvelope } from "../users/model.ts";
import { refreshUser } from "../users/service.ts";
import { RefreshBody } from "./model.ts";
import { logout, logoutAll } from "./service.ts";

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
        response: {
          200: SignedInEnvelope,
          401: errorDoc(
            "Not a current refresh token of a live session: unknown, expired, already used, or its session ended",
            { refreshToken: ["is invalid"] },
          ),
          422: errorDoc("The field is missing", { refreshToken: ["can't be blank"] }),
        },
        detail: {
          summary: "Refresh the token",
          description:
            "Exchange a refresh token for a new access token and a new refresh token; the presented one is retired. Presenting a retired refresh token again is refused and, unless within REFRESH_REUSE_GRACE_SECONDS of its rotation (a client racing itself), ends its whole session: every token descended from that login. No Authorization header needed. Counts against the per-IP refresh budget (RATE_LIMIT_AUTH_PER_MINUTE).",
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
        response: { 204: t.Void({ description: "Signed out" }) },
        detail: {
          summary: "Log out",
          description:
            "End this session: its access and refresh tokens stop working at once, and its realtime connections close (4001). Other sessions of the account keep working.",
          security: security.required,
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
        response: { 204: t.Void({ description: "Signed out everywhere" }) },
        detail: {
          summary: "Log out everywhere",
          description:
            "End every session of the account, this one included: all its access and refresh tokens stop working at once. Audited.",
          security: security.required,
        },
      },
    );
