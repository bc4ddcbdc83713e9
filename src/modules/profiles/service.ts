/** Profiles and follows. Follow and unfollow are idempotent; following yourself is refused. */
import { and, eq, sql } from "drizzle-orm";
import type { AppContext } from "../../context.ts";
import { follows, users } from "../../db/schema.ts";
import { forbidden, invalid, notFound } from "../../errors.ts";
import { perOwner } from "../../lib/memo.ts";
import { can } from "../../policy.ts";

export interface ProfileViewer {
  id: number;
  role: Parameters<typeof can>[0];
}

const queries = perOwner((db: AppContext["db"]) => ({
  profile: db
    .select({
      id: users.id,
      username: users.username,
      bio: users.bio,
      image: users.image,
      following: sql<number>`exists(select 1 from ${follows} where ${follows.followerId} = ${sql.placeholder("viewer")} and ${follows.followeeId} = ${users.id})`,
    })
    .from(users)
    .where(sql`lower(${users.username}) = lower(${sql.placeholder("username")})`)
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

function findProfile(ctx: AppContext, username: string, viewerId = 0) {
  const row = queries(ctx.db).profile.get({ username, viewer: viewerId });
  if (!row) throw notFound("profile");
  return row;
}

const toProfile = (row: {
  username: string;
  bio: string | null;
  image: string | null;
  following: number;
}) => ({
  username: row.username,
  bio: row.bio,
  image: row.image,
  following: row.following === 1,
});

export function getProfile(ctx: AppContext, username: string, viewer?: { id: number }) {
  return { profile: toProfile(findProfile(ctx, username, viewer?.id)) };
}

export function followUser(ctx: AppContext, viewer: ProfileViewer, username: string) {
  const target = findProfile(ctx, username, viewer.id);
  if (!can(viewer.role, "follow:write")) throw forbidden("profile");
  if (target.id === viewer.id) throw invalid("profile", "cannot follow yourself");
  ctx.events.transact((_tx, emit) => {
    queries(ctx.db).follow.run({ follower: viewer.id, followee: target.id });
    emit({ type: "follow.changed", followerId: viewer.id, followeeId: target.id, following: true });
  });
  return { profile: toProfile({ ...target, following: 1 }) };
}

export function unfollowUser(ctx: AppContext, viewer: ProfileViewer, username: string) {
  const target = findProfile(ctx, username, viewer.id);
  if (!can(viewer.role, "follow:write")) throw forbidden("profile");
  ctx.events.transact((_tx, emit) => {
    queries(ctx.db).unfollow.run({ follower: viewer.id, followee: target.id });
    emit({ type: "follow.changed", followerId: viewer.id, followeeId: target.id, following: false });
  });
  return { profile: toProfile({ ...target, following: 0 }) };
}
