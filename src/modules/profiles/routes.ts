import { Elysia, t } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { security, withExamples } from "../../http/docs.ts";
import { reply } from "../../http/etag.ts";
import { errorDoc, ProfileEnvelope, profileExample } from "../../http/model.ts";
import { unverifiedDoc } from "../accounts/model.ts";
import { followUser, getProfile, unfollowUser } from "./service.ts";

const params = t.Object({
  username: t.String({ maxLength: 64, description: "Username, matched regardless of case" }),
});
const noSuchUser = errorDoc("No user has this username", { profile: ["not found"] });

export const profilesRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/profiles", tags: ["Profiles"] })
    .use(authPlugin(ctx))
    .get(
      "/api/profiles/:username",
      async ({ params, viewer, request, set }) =>
        reply(request, set, await getProfile(ctx, params.username, viewer)),
      {
        optionalAuth: true,
        params,
        response: { 200: ProfileEnvelope, 404: noSuchUser },
        detail: {
          summary: "Get a profile",
          description:
            "A user's public profile. `following` says whether the viewer follows them (false for anonymous readers).",
          security: security.optional,
        },
      },
    )
    .post(
      "/api/profiles/:username/follow",
      ({ params, viewer }) => followUser(ctx, viewer, params.username),
      {
        auth: true,
        params,
        response: {
          200: withExamples(ProfileEnvelope, { profile: { ...profileExample, following: true } }),
          403: unverifiedDoc,
          404: noSuchUser,
          422: errorDoc("You cannot follow yourself", { profile: ["cannot follow yourself"] }),
        },
        detail: {
          summary: "Follow a user",
          description:
            "Idempotent: following someone already followed answers the same. Their new articles then appear in your feed (and on the realtime `feed` topic at once).",
          security: security.required,
        },
      },
    )
    .delete(
      "/api/profiles/:username/follow",
      ({ params, viewer }) => unfollowUser(ctx, viewer, params.username),
      {
        auth: true,
        params,
        response: { 200: ProfileEnvelope, 403: unverifiedDoc, 404: noSuchUser },
        detail: {
          summary: "Unfollow a user",
          description:
            "Idempotent: unfollowing someone not followed answers the same, with `following: false`.",
          security: security.required,
        },
      },
    );
