/**
 * Topics and who may subscribe to them. Authorization model: a topic is readable by whoever may read the
 * REST resource it mirrors: `articles`, `articles:<slug>`, `profiles:<username>` and `tags:<tag>` are public
 * (anonymous sockets allowed), and `feed` is the viewer's own feed, so it needs a token and the
 * "realtime:feed" permission (src/policy.ts).
 *
 * A topic's name is canonical (the stored username's case, for instance), so every subscriber of the same
 * thing shares one Bun topic and one history. The feed is not one Bun topic: a feed subscriber is
 * subscribed to one internal key per author it follows (`feed:<authorId>`), so an article is fanned out to
 * the followers of its author by Bun's native pub/sub, and follow/unfollow changes the keys live.
 */
import type { AppContext } from "../../context.ts";
import { limits } from "../../http/model.ts";
import { can, type Role } from "../../policy.ts";
import type { ProtocolError } from "./protocol.ts";

export type TopicKind = "articles" | "article" | "profile" | "tag" | "feed";

export interface Topic {
  kind: TopicKind;
  /** Canonical name, as clients see it in messages. */
  name: string;
}

export interface Subscriber {
  id: number;
  role: Role;
}

/** A refused subscription: the protocol error, and the HTTP status SSE answers with. */
export interface TopicRefusal extends ProtocolError {
  status: 401 | 403 | 404 | 422;
}

/** The internal pub/sub key that carries `feed` events written by one author. */
export const feedKey = (authorId: number) => `feed:${authorId}`;

/** The authors `userId` follows (one indexed query: follows' primary key starts with the follower). */
export async function followeesOf(ctx: AppContext, userId: number): Promise<Set<number>> {
  return new Set(await ctx.store.read.profiles.followees(userId));
}

const refuse = (status: TopicRefusal["status"], code: TopicRefusal["code"], topic: string, message: string) =>
  ({ status, code, topic, message }) satisfies TopicRefusal;

/** Parse, authorize and canonicalize a topic name for `viewer` (undefined: anonymous). */
export async function resolveTopic(
  ctx: AppContext,
  raw: string,
  viewer?: Subscriber,
): Promise<Topic | TopicRefusal> {
  if (raw === "articles") return { kind: "articles", name: raw };
  if (raw === "feed") {
    if (!viewer) return refuse(401, "unauthorized", raw, "the feed needs a token: connect with one");
    if (!can(viewer.role, "realtime:feed")) return refuse(403, "forbidden", raw, "the feed is not allowed");
    return { kind: "feed", name: raw };
  }
  const colon = raw.indexOf(":");
  const prefix = colon > 0 ? raw.slice(0, colon) : "";
  const arg = raw.slice(colon + 1);
  if (colon > 0 && arg.length > 0) {
    if (prefix === "articles") {
      const head = await ctx.store.read.articles.headBySlug(arg);
      if (!head) return refuse(404, "not_found", raw, "no article has this slug");
      return { kind: "article", name: `articles:${head.slug}` };
    }
    if (prefix === "profiles") {
      const row = await ctx.store.read.profiles.byUsername(arg);
      if (!row) return refuse(404, "not_found", raw, "no user has this username");
      return { kind: "profile", name: `profiles:${row.username}` };
    }
    // A tag need not exist yet: subscribers may wait for its first article.
    if (prefix === "tags" && arg.length <= limits.tag && /\S/.test(arg)) return { kind: "tag", name: raw };
  }
  return refuse(
    422,
    "invalid_topic",
    raw,
    "topics are articles, articles:<slug>, profiles:<username>, tags:<tag> and feed",
  );
}

export const isRefusal = (t: Topic | TopicRefusal): t is TopicRefusal => "code" in t;
