/**
 * Repositories of the account lifecycle: one-time tokens sent by email (password reset, email verification),
 * and what an account owns, read for its export and its deletion. Timestamps are epoch milliseconds from the
 * app's clock, never the engine's, so tests can move time.
 */

export type AccountTokenPurpose = "password-reset" | "email-verification";

export interface NewAccountToken {
  userId: number;
  purpose: AccountTokenPurpose;
  /** SHA-256 of the token (the plaintext is never stored). */
  tokenHash: string;
  /** The address the token is sent to. */
  email: string;
  expiresAt: number;
  now: number;
}

export interface ConsumedToken {
  userId: number;
  /** The address it was sent to (the account's current address, or it would not have been consumed). */
  email: string;
}

export interface AccountTokensRepo {
  insert(token: NewAccountToken): Promise<void>;
  /**
   * Use a token, in ONE atomic statement (`UPDATE … SET used_at = now WHERE token_hash = ? AND purpose = ?
   * AND used_at IS NULL AND expires_at > now AND <the account> … RETURNING`): of this purpose, unused,
   * unexpired, of an account that is not suspended and whose address (ASCII case-insensitively) is still the
   * one the token was sent to. Of two concurrent calls with one token exactly one gets it. Undefined for
   * anything else (unknown, used, expired, another purpose, address changed, account suspended or gone),
   * and then nothing changed.
   */
  consume(purpose: AccountTokenPurpose, tokenHash: string, now: number): Promise<ConsumedToken | undefined>;
  /** Mark every unused token of the user for `purpose` used (a reset done, a password changed). Returns how many. */
  retire(userId: number, purpose: AccountTokenPurpose, now: number): Promise<number>;
}

/** Keyset paging: rows with a key greater than `after`, in key order, at most `limit`. */
export interface After<K = number> {
  after: K;
  limit: number;
}

export interface ExportArticle {
  id: number;
  slug: string;
  title: string;
  description: string;
  body: string;
  /** Sorted like every tagList. */
  tagList: string[];
  favoritesCount: number;
  createdAt: number;
  updatedAt: number;
}

export interface ExportComment {
  id: number;
  articleSlug: string;
  body: string;
  createdAt: number;
  updatedAt: number;
}

export interface ExportFavorite {
  articleId: number;
  articleSlug: string;
  createdAt: number;
}

export interface ExportFollow {
  userId: number;
  username: string;
  createdAt: number;
}

export interface ExportSession {
  /** The key for paging only: never shown (it is half of what an access token carries). */
  id: string;
  createdAt: number;
  expiresAt: number;
  endedAt: number | null;
}

export interface ExportAuditEntry {
  id: number;
  at: number;
  action: string;
  /** Whether the user did it (false: it was done to them, e.g. by an admin). */
  byUser: boolean;
  /** The client address, only of entries the user made (an admin's address is not theirs to see). */
  ip: string | null;
}

/** An article, comment or favourite of the user, as deletion needs it (events name slugs, authors, tags). */
export interface OwnedArticle {
  id: number;
  slug: string;
  authorId: number;
  /** Sorted like every tagList. */
  tags: string[];
}

/** The shape of CommentHead (src/store/content.ts): what removing a comment needs. */
export interface OwnedComment {
  id: number;
  articleId: number;
  /** The article's slug. */
  slug: string;
  authorId: number;
  body: string;
  createdAt: number;
  updatedAt: number;
}

export interface FavoriteCount {
  articleId: number;
  slug: string;
  /** The count after the user's favourite was taken away. */
  favoritesCount: number;
}

/**
 * What an account owns or did. The export pages through it (keyset, so a large account streams in bounded
 * memory); deletion reads the whole lists at once, inside its unit of work.
 */
export interface AccountDataRepo {
  /** Their articles, by id, with body and tags. */
  articles(userId: number, page: After): Promise<ExportArticle[]>;
  /** Their comments (on anyone's article), by id. */
  comments(userId: number, page: After): Promise<ExportComment[]>;
  /** Articles they favourited (anyone's), by article id. */
  favorites(userId: number, page: After): Promise<ExportFavorite[]>;
  /** Users they follow, by user id. */
  following(userId: number, page: After): Promise<ExportFollow[]>;
  /** Their sessions still on record (ended and expired ones until housekeeping purges them), by id. */
  sessions(userId: number, page: After<string>): Promise<ExportSession[]>;
  /** Audit entries they made or that are about them, by id. */
  auditEntries(userId: number, page: After): Promise<ExportAuditEntry[]>;

  /** Every article they wrote, by id, with its tags. */
  ownArticles(userId: number): Promise<OwnedArticle[]>;
  /** Every comment they wrote on someone else's article (those on their own go with the article). */
  commentsElsewhere(userId: number): Promise<OwnedComment[]>;
  /**
   * Take back every favourite they gave to someone else's article: the rows are deleted and each article's
   * favorites_count goes down by one (never below 0), in the caller's unit of work. Returns the new counts.
   */
  releaseFavorites(userId: number): Promise<FavoriteCount[]>;
}
