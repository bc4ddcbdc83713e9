/** Profiles and follows on SQLite. Usernames are matched with lower(), like their unique index. */
import { and, eq, sql } from "drizzle-orm";
import type { ProfilesRepo } from "../../../store/content.ts";
import type { SqliteDb } from "../client.ts";
import { follows, users } from "../schema.ts";
import { jsonList, lazy } from "./lazy.ts";

const ph = (name: string) => sql.placeholder(name);
const pair = and(eq(follows.followerId, ph("follower")), eq(follows.followeeId, ph("followee")));

export function sqliteProfiles(db: SqliteDb): ProfilesRepo {
  const q = lazy(() => ({
    byUsername: db
      .select({ id: users.id, username: users.username, bio: users.bio, image: users.image })
      .from(users)
      .where(sql`lower(${users.username}) = lower(${ph("username")})`)
      .prepare(),
    following: db.select({ one: sql<number>`1` }).from(follows).where(pair).prepare(),
    followingAmong: db
      .select({ id: follows.followeeId })
      .from(follows)
      .where(
        and(
          eq(follows.followerId, ph("viewer")),
          sql`${follows.followeeId} in (select value from json_each(${ph("ids")}))`,
        ),
      )
      .prepare(),
    followees: db
      .select({ id: follows.followeeId })
      .from(follows)
      .where(eq(follows.followerId, ph("follower")))
      .prepare(),
    follow: db
      .insert(follows)
      .values({ followerId: ph("follower"), followeeId: ph("followee") })
      .onConflictDoNothing()
      .returning({ one: sql<number>`1` })
      .prepare(),
    unfollow: db.delete(follows).where(pair).returning({ one: sql<number>`1` }).prepare(),
  }));
  return {
    async byUsername(username) {
      return q().byUsername.get({ username });
    },
    async isFollowing(follower, followee) {
      return q().following.get({ follower, followee }) !== undefined;
    },
    async followingAmong(viewer, ids) {
      if (ids.length === 0) return [];
      return q()
        .followingAmong.all({ viewer, ids: jsonList(ids) })
        .map((r) => r.id);
    },
    async followees(follower) {
      return q()
        .followees.all({ follower })
        .map((r) => r.id);
    },
    // RETURNING is read with .all(): .get() would leave the statement open and pin the WAL.
    async follow(follower, followee) {
      return q().follow.all({ follower, followee }).length > 0;
    },
    async unfollow(follower, followee) {
      return q().unfollow.all({ follower, followee }).length > 0;
    },
  };
}
