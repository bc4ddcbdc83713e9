import type { Role } from "./policy.ts";

/**
 * The domain events Quire's services emit (`await tx.emit(event)` in a unit of work, src/store/store.ts).
 * Realtime, cache invalidation, session checks, flags, webhooks and emails react to these instead of being
 * called from the services; src/listeners.ts registers every reaction.
 *
 * `inTransaction` handlers see the database as it is at the moment of the emit: `article.deleted` is emitted
 * before the row is deleted, so a handler can still read it. Comment events carry the comment itself.
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
  /** The comment as anyone may see it travels with its events: live updates and webhooks read nothing more. */
  | {
      type: "comment.created" | "comment.deleted";
      commentId: number;
      articleId: number;
      slug: string;
      authorId: number;
      comment: PublicComment;
    }
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
  /**
   * A password reset was asked for. `userId` is the account (existing, not suspended) that gets the link, or
   * null when no account does: the outbox enqueues the email job either way (one that sends nothing for
   * null), so both answers cost the same.
   */
  | { type: "user.password_reset_requested"; userId: number | null }
  /** The account asked for a new verification link (registration and email changes send one anyway). */
  | { type: "user.email_verification_requested"; userId: number }
  /** The account's current address was verified: its session checks carry the old answer. */
  | { type: "user.email_verified"; userId: number }
  /**
   * An account was deleted. Emitted after the events of what went with it (`article.deleted`,
   * `comment.deleted`, `article.unfavorited`, `sessions.ended`) and before the row is deleted.
   */
  | { type: "user.deleted"; userId: number; username: string }
  | { type: "follow.changed"; followerId: number; followeeId: number; following: boolean }
  /** An admin changed a user's role: their cached session checks carry the old one. */
  | { type: "user.role_changed"; userId: number; role: Role }
  /** A feature flag was changed at run time: every node re-reads the flags. */
  | { type: "flag.changed"; name: string }
  /**
   * Sessions ended before their time (logout, logout-all, password change or reset, suspension, refresh-token
   * reuse, account deletion).
   * Realtime closes the sockets those sessions opened.
   */
  | { type: "sessions.ended"; userId: number; sessionIds: string[]; reason: string };

export type DomainEventType = DomainEvent["type"];

/** A comment's public facts (no viewer-relative flags), as comment events carry them. */
export interface PublicComment {
  id: number;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
  body: string;
  author: { username: string; bio: string | null; image: string | null };
}
