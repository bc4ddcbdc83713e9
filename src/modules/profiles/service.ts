/**
 * Profiles and follows. Follow and unfollow are idempotent; following yourself is refused. Profiles are read
 * through the profiles cache (the anonymous view, by lower-cased username); the reader's `following` flag
 * is one primary-key probe per request, never cached.
 */
import type { AppContext } from "../../context.ts";
import { forbidden, invalid, notFound } from "../../errors.ts";
import { CachedJson } from "../../lib/cached-json.ts";
import { assertMayWrite, can, type Role } from "../../policy.ts";
import { type ProfileEntry, usernameKey } from "../cache/index.ts";

export interface ProfileViewer {
  id: number;
  role: Role;
  /** REQUIRE_VERIFIED_EMAIL_TO_WRITE (src/policy.ts). */
  emailVerified: boolean;
}

/** The cached anonymous profile, or undefined for an unknown name (misses are not cached). */
function profileEntry(ctx: AppContext, username: string) {
  return ctx.caches.profiles.load(usernameKey(username), async () => {
    const row = await ctx.store.read.profiles.byUsername(username);
    if (!row) return undefined;
    const profile = { username: row.username, bio: row.bio, image: row.image, following: false };
    return { id: row.id, profile, body: CachedJson.of({ profile }) };
  });
}

async function findProfile(ctx: AppContext, username: string): Promise<ProfileEntry> {
  const entry = await profileEntry(ctx, username);
  if (!entry) throw notFound("profile");
  return entry;
}

/** The id of a username (for `?author=` and `?favorited=`), or undefined if there is no such user. */
export async function userIdOf(ctx: AppContext, username: string): Promise<number | undefined> {
  return (await profileEntry(ctx, username))?.id;
}

const withFollowing = (entry: ProfileEntry, following: boolean) => ({
  profile: { ...entry.profile, following },
});

/** The shared cached body, unless the reader follows this user. */
export async function getProfile(ctx: AppContext, username: string, viewer?: { id: number }) {
  const entry = await findProfile(ctx, username);
  if (!viewer) return entry.body;
  const following = await ctx.store.read.profiles.isFollowing(viewer.id, entry.id);
  return following ? withFollowing(entry, true) : entry.body;
}

async function setFollowing(ctx: AppContext, viewer: ProfileViewer, username: string, following: boolean) {
  assertMayWrite(viewer, ctx.config.REQUIRE_VERIFIED_EMAIL_TO_WRITE);
  const target = await findProfile(ctx, username);
  if (!can(viewer.role, "follow:write")) throw forbidden("profile");
  if (following && target.id === viewer.id) throw invalid("profile", "cannot follow yourself");
  await ctx.store.write(async (tx) => {
    if (following) await tx.profiles.follow(viewer.id, target.id);
    else await tx.profiles.unfollow(viewer.id, target.id);
    await tx.emit({ type: "follow.changed", followerId: viewer.id, followeeId: target.id, following });
  });
  return withFollowing(target, following);
}

export const followUser = (ctx: AppContext, viewer: ProfileViewer, username: string) =>
  setFollowing(ctx, viewer, username, true);

export const unfollowUser = (ctx: AppContext, viewer: ProfileViewer, username: string) =>
  setFollowing(ctx, viewer, username, false);
