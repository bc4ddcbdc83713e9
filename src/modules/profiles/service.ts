/**
 * Profiles and follows. Follow and unfollow are idempotent; following yourself is refused. Profiles are read
 * through the profiles cache (the anonymous view, by lower-cased username); the reader's `following` flag
 * is one primary-key probe per request, never cached.
 */
import { and, eq, sql } from "drizzle-orm";
import type { AppContext } from "../../context.ts";
import { follows, users } from "../../db/schema.ts";
import { forbidden, invalid, notFound } from "../../errors.ts";
import { perOwner } from "../../lib/memo.ts";
import { can } from "../../policy.ts";
import { type ProfileEntry, usernameKey } from "../cache/index.ts";
import { CachedJson } from "../cache/json.ts";

export interface ProfileViewer {
  id: number;
  role: Parameters<typeof can>[0];
}

const queries = perOwner((db: AppContext["db"]) => ({
  profile: db
    .select({ id: users.id, username: users.username, bio: users.bio, image: users.image })
    .from(users)
    .where(sql`lower(${users.username}) = lower(${sql.placeholder("username")})`)
    .prepare(),
  following: db
    .select({ one: sql<number>`1` })
    .from(follows)
    .where(
      and(
        eq(follows.followerId, sql.placeholder("follower")),
        eq(follows.followeeId, sql.placeholder("followee")),
      ),
    )
    .prepare(),
  follow: db
    .insert(follows)
    .values({ followerId: sql.placeholder("follower"), followeeId: sql.placeholder("followee") })
    .onConflictDoNothing()
    .prepare(),
  unfollow: db
    .delete(follows)
    .where(
      and(
        eq(follows.followerId, sql.placeholder("follower")),
        eq(follows.followeeId, sql.placeholder("followee")),
      ),
    )
    .prepare(),
}));

/** The cached anonymous profile, or undefined for an unknown name (misses are not cached). */
function profileEntry(ctx: AppContext, username: string): ProfileEntry | undefined {
  return ctx.caches.profiles.load(usernameKey(username), () => {
    const row = queries(ctx.db).profile.get({ username });
    if (!row) return undefined;
    const profile = { username: row.username, bio: row.bio, image: row.image, following: false };
    return { id: row.id, profile, body: CachedJson.of({ profile }) };
  });
}

function findProfile(ctx: AppContext, username: string): ProfileEntry {
  const entry = profileEntry(ctx, username);
  if (!entry) throw notFound("profile");
  return entry;
}

/** The id of a username (for `?author=` and `?favorited=`), or undefined if there is no such user. */
export function userIdOf(ctx: AppContext, username: string): number | undefined {
  return profileEntry(ctx, username)?.id;
}

const withFollowing = (entry: ProfileEntry, following: boolean) => ({
  profile: { ...entry.profile, following },
});

/** The shared cached body, unless the reader follows this user. */
export function getProfile(ctx: AppContext, username: string, viewer?: { id: number }) {
  const entry = findProfile(ctx, username);
  if (!viewer) return entry.body;
  const following = queries(ctx.db).following.get({ follower: viewer.id, followee: entry.id }) !== undefined;
  return following ? withFollowing(entry, true) : entry.body;
}

export function followUser(ctx: AppContext, viewer: ProfileViewer, username: string) {
  const target = findProfile(ctx, username);
  if (!can(viewer.role, "follow:write")) throw forbidden("profile");
  if (target.id === viewer.id) throw invalid("profile", "cannot follow yourself");
  ctx.events.transact((_tx, emit) => {
    queries(ctx.db).follow.run({ follower: viewer.id, followee: target.id });
    emit({ type: "follow.changed", followerId: viewer.id, followeeId: target.id, following: true });
  });
  return withFollowing(target, true);
}

export function unfollowUser(ctx: AppContext, viewer: ProfileViewer, username: string) {
  const target = findProfile(ctx, username);
  if (!can(viewer.role, "follow:write")) throw forbidden("profile");
  ctx.events.transact((_tx, emit) => {
    queries(ctx.db).unfollow.run({ follower: viewer.id, followee: target.id });
    emit({ type: "follow.changed", followerId: viewer.id, followeeId: target.id, following: false });
  });
  return withFollowing(target, false);
}
