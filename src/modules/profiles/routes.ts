import { Elysia, t } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { reply } from "../../http/etag.ts";
import { errors, ProfileEnvelope } from "../shared/model.ts";
import { followUser, getProfile, unfollowUser } from "./service.ts";

const params = t.Object({ username: t.String({ maxLength: 64 }) });

export const profilesRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/profiles", tags: ["Profiles"] })
    .use(authPlugin(ctx))
    .get(
      "/api/profiles/:username",
      async ({ params, viewer, request, set }) => reply(request, set, await getProfile(ctx, params.username, viewer)),
      {
        optionalAuth: true,
        params,
        response: { 200: ProfileEnvelope, ...errors(401, 404) },
        detail: { summary: "Get a profile", description: "`following` is false for anonymous readers." },
      },
    )
    .post(
      "/api/profiles/:username/follow",
      ({ params, viewer }) => followUser(ctx, viewer, params.username),
      {
        auth: true,
        params,
        response: { 200: ProfileEnvelope, ...errors(401, 403, 404, 422) },
        detail: { summary: "Follow a user", description: "Idempotent.", security: [{ Token: [] }] },
      },
    )
    .delete(
      "/api/profiles/:username/follow",
      ({ params, viewer }) => unfollowUser(ctx, viewer, params.username),
      {
        auth: true,
        params,
        response: { 200: ProfileEnvelope, ...errors(401, 403, 404) },
        detail: { summary: "Unfollow a user", description: "Idempotent.", security: [{ Token: [] }] },
      },
    );
