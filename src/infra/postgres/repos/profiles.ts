/** Profiles and follows on Postgres. Usernames match with lower(x COLLATE "C"), like their unique index. */
import { and, eq, sql } from "drizzle-orm";
import type { ProfilesRepo } from "../../../store/content.ts";
import { follows, users } from "../schema.ts";
import { lazy, type PgDb, ph } from "./shared.ts";

const pair = and(eq(follows.followerId, ph("follower")), eq(follows.followeeId, ph("followee")));

export function pgProfiles(db: PgDb): ProfilesRepo {
  const q = lazy(() => ({
    byUsername: db
      .select({ id: users.id, username: users.username, bio: users.bio, image: users.image })
      .from(users)
      .where(sql`lower((${users.username} COLLATE "C")) = lower((${ph("username")}::text COLLATE "C"))`)
      .prepare("profile_by_username"),
    following: db.select({ one: sql<number>`1` }).from(follows).where(pair).prepare("profile_following"),
    followingAmong: db
      .select({ id: follows.followeeId })
      .from(follows)
      .where(
        and(eq(follows.followerId, ph("viewer")), sql`${follows.followeeId} = any(${ph("ids")}::bigint[])`),
      )
      .prepare("profile_following_among"),
    followees: db
      .select({ id: follows.followeeId })
      .from(follows)
      .where(eq(follows.followerId, ph("follower")))
      .prepare("profile_followees"),
    follow: db
      .insert(follows)
      .values({ followerId: ph("follower"), followeeId: ph("followee") })
      .onConflictDoNothing()
      .returning({ followerId: follows.followerId })
      .prepare("profile_follow"),
    unfollow: db
      .delete(follows)
      .where(pair)
      .returning({ followerId: follows.followerId })
      .prepare("profile_unfollow"),
  }));
  return {
    async byUsername(username) {
      const [row] = await q().byUsername.execute({ username });
      return row;
    },
    async isFollowing(follower, followee) {
      return (await q().following.execute({ follower, followee })).length > 0;
    },
    async followingAmong(viewer, ids) {
      if (ids.length === 0) return [];
      const rows = await q().followingAmong.execute({ viewer, ids: [...ids] });
      return rows.map((r) => r.id);
    },
    async followees(follower) {
      const rows = await q().followees.execute({ follower });
      return rows.map((r) => r.id);
    },
    async follow(follower, followee) {
      return (await q().follow.execute({ follower, followee })).length > 0;
    },
    async unfollow(follower, followee) {
      return (await q().unfollow.execute({ follower, followee })).length > 0;
    },
  };
}
