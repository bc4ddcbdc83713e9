/**
 * The account lifecycle on SQLite: one-time account tokens, and what an account owns (for its export and its
 * deletion). Plain SQL on the connection: these are one-table keyset pages and two single-statement updates,
 * clearer spelled out than built.
 */
import type { Database } from "bun:sqlite";
import type {
  AccountDataRepo,
  AccountTokensRepo,
  ExportArticle,
  ExportAuditEntry,
} from "../../../store/lifecycle.ts";
import { lazy } from "./lazy.ts";

export function sqliteAccountTokens(connection: Database): AccountTokensRepo {
  const q = lazy(() => ({
    insert: connection.query(
      `INSERT INTO account_tokens (user_id, purpose, token_hash, email, created_at, expires_at)
       VALUES ($userId, $purpose, $tokenHash, $email, $now, $expiresAt)`,
    ),
    // The whole check and the claim in one statement: nothing can use the token between them.
    consume: connection.query<{ userId: number; email: string }, Record<string, string | number>>(
      `UPDATE account_tokens SET used_at = $now
       WHERE token_hash = $tokenHash AND purpose = $purpose AND used_at IS NULL AND expires_at > $now
         AND EXISTS (SELECT 1 FROM users u WHERE u.id = account_tokens.user_id AND u.suspended = 0
                     AND lower(u.email) = lower(account_tokens.email))
       RETURNING user_id AS userId, email`,
    ),
    retire: connection.query(
      `UPDATE account_tokens SET used_at = $now
       WHERE user_id = $userId AND purpose = $purpose AND used_at IS NULL`,
    ),
  }));
  return {
    async insert(token) {
      q().insert.run({ ...token });
    },
    // RETURNING is read with .all(): .get() would leave the statement open and pin the WAL.
    async consume(purpose, tokenHash, now) {
      return q().consume.all({ purpose, tokenHash, now })[0];
    },
    async retire(userId, purpose, now) {
      return q().retire.run({ userId, purpose, now }).changes;
    },
  };
}

type Params = Record<string, string | number>;

export function sqliteAccountData(connection: Database): AccountDataRepo {
  const q = lazy(() => ({
    articles: connection.query<Omit<ExportArticle, "tagList"> & { tagList: string }, Params>(
      `SELECT a.id, a.slug, a.title, a.description, a.body, a.favorites_count AS favoritesCount,
              a.created_at AS createdAt, a.updated_at AS updatedAt,
              (SELECT json_group_array(name) FROM (SELECT t.name AS name FROM article_tags at
                 JOIN tags t ON t.id = at.tag_id WHERE at.article_id = a.id ORDER BY t.name)) AS tagList
       FROM articles a WHERE a.author_id = $userId AND a.id > $after ORDER BY a.id LIMIT $limit`,
    ),
    comments: connection.query(
      `SELECT c.id, a.slug AS articleSlug, c.body, c.created_at AS createdAt, c.updated_at AS updatedAt
       FROM comments c JOIN articles a ON a.id = c.article_id
       WHERE c.author_id = $userId AND c.id > $after ORDER BY c.id LIMIT $limit`,
    ),
    favorites: connection.query(
      `SELECT f.article_id AS articleId, a.slug AS articleSlug, f.created_at AS createdAt
       FROM favorites f JOIN articles a ON a.id = f.article_id
       WHERE f.user_id = $userId AND f.article_id > $after ORDER BY f.article_id LIMIT $limit`,
    ),
    following: connection.query(
      `SELECT f.followee_id AS userId, u.username, f.created_at AS createdAt
       FROM follows f JOIN users u ON u.id = f.followee_id
       WHERE f.follower_id = $userId AND f.followee_id > $after ORDER BY f.followee_id LIMIT $limit`,
    ),
    sessions: connection.query(
      `SELECT id, created_at AS createdAt, expires_at AS expiresAt, revoked_at AS endedAt
       FROM sessions WHERE user_id = $userId AND id > $after ORDER BY id LIMIT $limit`,
    ),
    audit: connection.query<Omit<ExportAuditEntry, "byUser"> & { byUser: number }, Params>(
      `SELECT id, at, action, actor_id IS $userId AS byUser, CASE WHEN actor_id IS $userId THEN ip END AS ip
       FROM audit_log
       WHERE (actor_id = $userId OR (target_type = 'user' AND target_id = $target)) AND id > $after
       ORDER BY id LIMIT $limit`,
    ),
    ownArticles: connection.query<{ id: number; slug: string; authorId: number; tags: string }, Params>(
      `SELECT a.id, a.slug, a.author_id AS authorId,
              (SELECT json_group_array(name) FROM (SELECT t.name AS name FROM article_tags at
                 JOIN tags t ON t.id = at.tag_id WHERE at.article_id = a.id ORDER BY t.name)) AS tags
       FROM articles a WHERE a.author_id = $userId ORDER BY a.id`,
    ),
    commentsElsewhere: connection.query(
      `SELECT c.id, c.article_id AS articleId, a.slug, c.author_id AS authorId, c.body,
         c.created_at AS createdAt, c.updated_at AS updatedAt
       FROM comments c JOIN articles a ON a.id = c.article_id
       WHERE c.author_id = $userId AND a.author_id <> $userId ORDER BY c.id`,
    ),
    // Both statements run in the caller's unit of work: the counts and the rows cannot disagree.
    releaseCounts: connection.query<{ articleId: number; slug: string; favoritesCount: number }, Params>(
      `UPDATE articles SET favorites_count = max(favorites_count - 1, 0)
       WHERE id IN (SELECT article_id FROM favorites WHERE user_id = $userId) AND author_id <> $userId
       RETURNING id AS articleId, slug, favorites_count AS favoritesCount`,
    ),
    releaseRows: connection.query("DELETE FROM favorites WHERE user_id = $userId"),
  }));
  const page = (userId: number, p: { after: number | string; limit: number }) => ({
    userId,
    after: p.after,
    limit: p.limit,
  });
  return {
    async articles(userId, p) {
      return q()
        .articles.all(page(userId, p))
        .map((r) => ({ ...r, tagList: JSON.parse(r.tagList) as string[] }));
    },
    async comments(userId, p) {
      return q().comments.all(page(userId, p)) as Awaited<ReturnType<AccountDataRepo["comments"]>>;
    },
    async favorites(userId, p) {
      return q().favorites.all(page(userId, p)) as Awaited<ReturnType<AccountDataRepo["favorites"]>>;
    },
    async following(userId, p) {
      return q().following.all(page(userId, p)) as Awaited<ReturnType<AccountDataRepo["following"]>>;
    },
    async sessions(userId, p) {
      return q().sessions.all(page(userId, p)) as Awaited<ReturnType<AccountDataRepo["sessions"]>>;
    },
    async auditEntries(userId, p) {
      return q()
        .audit.all({ ...page(userId, p), target: String(userId) })
        .map((r) => ({ ...r, byUser: r.byUser === 1 }));
    },
    async ownArticles(userId) {
      return q()
        .ownArticles.all({ userId })
        .map((r) => ({ ...r, tags: JSON.parse(r.tags) as string[] }));
    },
    async commentsElsewhere(userId) {
      return q().commentsElsewhere.all({ userId }) as Awaited<
        ReturnType<AccountDataRepo["commentsElsewhere"]>
      >;
    },
    async releaseFavorites(userId) {
      const s = q();
      const counts = s.releaseCounts.all({ userId });
      s.releaseRows.run({ userId });
      return counts.sort((a, b) => a.articleId - b.articleId);
    },
  };
}
