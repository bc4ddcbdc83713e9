import type { Role } from "./policy.ts";

/**
 * The domain events Quire's services emit (`await tx.emit(event)` in a unit of work, src/store/store.ts).
 * Realtime, cache invalidation, session checks, flags, webhooks and emails react to these instead of being
 * called from the services; src/listeners.ts registers every reaction.
 *
 * `inTransaction` handlers see the database as it is at the moment of the emit: `article.deleted` and
 * `comment.deleted` are emitted before the row is deleted, so a handler can still read it.
 *
 * Events are plain data (they may cross to other nodes of a cluster): no class instances, no functions.
 */
export type DomainEvent =
  | { type: "article.created"; articleId: number; slug: string; authorId: number; tags: string[] }
  | {
      type: "article.updated";
      articleId: number;
      slug: string;
      previousSlug: string;
      authorId: number;
      tags: string[];
    }
  | { type: "article.deleted"; articleId: number; slug: string; authorId: number; tags: string[] }
  | {
      type: "article.favorited" | "article.unfavorited";
      articleId: number;
      slug: string;
      userId: number;
      favoritesCount: number;
    }
  | { type: "comment.created"; commentId: number; articleId: number; slug: string; authorId: number }
  | { type: "comment.deleted"; commentId: number; articleId: number; slug: string; authorId: number }
  | { type: "user.created"; userId: number; username: string; email: string }
  | {
      type: "user.updated";
      userId: number;
      username: string;
      previousUsername: string;
      email: string;
      previousEmail: string;
      passwordChanged: boolean;
    }
  | { type: "follow.changed"; followerId: number; followeeId: number; following: boolean }
  /** An admin changed a user's role: their cached session checks carry the old one. */
  | { type: "user.role_changed"; userId: number; role: Role }
  /** A feature flag was changed at run time: every node re-reads the flags. */
  | { type: "flag.changed"; name: string }
  /**
   * Sessions ended before their time (logout, logout-all, password change, suspension, refresh-token reuse).
   * Realtime closes the sockets those sessions opened.
   */
  | { type: "sessions.ended"; userId: number; sessionIds: string[]; reason: string };

export type DomainEventType = DomainEvent["type"];
