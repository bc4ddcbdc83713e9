/**
 * The account lifecycle on Postgres: one-time account tokens, and what an account owns (for its export and its
 * deletion). The twin of ../../sqlite/repos/lifecycle.ts, statement for statement: plain SQL, one-table keyset
 * pages and single-statement updates. Bun returns int8 as strings, so ids and times go through num().
 */
import { type SQL, sql } from "drizzle-orm";
import type {
  AccountDataRepo,
  AccountTokenPurpose,
  AccountTokensRepo,
  ExportArticle,
  ExportAuditEntry,
  ExportComment,
  ExportFavorite,
  ExportFollow,
  ExportSession,
  OwnedComment,
} from "../../../store/lifecycle.ts";
import { num, type PgDb } from "./shared.ts";

type Raw = Record<string, unknown>;

/** The tags of article `a`, in code point order like every tagList. */
const tagArray = sql.raw(
  `array(select t.name from article_tags at join tags t on t.id = at.tag_id where at.article_id = a.id order by t.name collate "C")`,
);
const nullable = (v: unknown) => (v === null || v === undefined ? null : num(v));

export function pgAccountTokens(db: PgDb): AccountTokensRepo {
  const rows = async (query: SQL) => (await db.execute(query)) as unknown as Raw[];
  return {
    async insert(t) {
      await db.execute(sql`insert into account_tokens (user_id, purpose, token_hash, email, created_at, expires_at)
        values (${t.userId}, ${t.purpose}, ${t.tokenHash}, ${t.email}, ${t.now}, ${t.expiresAt})`);
    },
    // The whole check and the claim in one statement: the row lock makes a concurrent second call find
    // used_at set (READ COMMITTED re-checks the row) or fail to serialize (SERIALIZABLE units retry).
    async consume(purpose: AccountTokenPurpose, tokenHash: string, now: number) {
      const [row] = await rows(sql`update account_tokens set used_at = ${now}
        where token_hash = ${tokenHash} and purpose = ${purpose} and used_at is null and expires_at > ${now}
          and exists (select 1 from users u where u.id = account_tokens.user_id and not u.suspended
                      and lower((u.email collate "C")) = lower((account_tokens.email collate "C")))
        returning user_id, email`);
      return row && { userId: num(row.user_id), email: row.email as string };
    },
    async retire(userId, purpose, now) {
      const changed = await rows(sql`update account_tokens set used_at = ${now}
        where user_id = ${userId} and purpose = ${purpose} and used_at is null returning 1`);
      return changed.length;
    },
  };
}

export function pgAccountData(db: PgDb): AccountDataRepo {
  const rows = async (query: SQL) => (await db.execute(query)) as unknown as Raw[];
  return {
    async articles(userId, p): Promise<ExportArticle[]> {
      const found = await rows(sql`select a.id, a.slug, a.title, a.description, a.body, a.favorites_count,
          a.created_at, a.updated_at, ${tagArray} as tag_list
        from articles a where a.author_id = ${userId} and a.id > ${p.after} order by a.id limit ${p.limit}`);
      return found.map((r) => ({
        id: num(r.id),
        slug: r.slug as string,
        title: r.title as string,
        description: r.description as string,
        body: r.body as string,
        tagList: r.tag_list as string[],
        favoritesCount: num(r.favorites_count),
        createdAt: num(r.created_at),
        updatedAt: num(r.updated_at),
      }));
    },
    async comments(userId, p): Promise<ExportComment[]> {
      const found = await rows(sql`select c.id, a.slug, c.body, c.created_at, c.updated_at
        from comments c join articles a on a.id = c.article_id
        where c.author_id = ${userId} and c.id > ${p.after} order by c.id limit ${p.limit}`);
      return found.map((r) => ({
        id: num(r.id),
        articleSlug: r.slug as string,
        body: r.body as string,
        createdAt: num(r.created_at),
        updatedAt: num(r.updated_at),
      }));
    },
    async favorites(userId, p): Promise<ExportFavorite[]> {
      const found = await rows(sql`select f.article_id, a.slug, f.created_at
        from favorites f join articles a on a.id = f.article_id
        where f.user_id = ${userId} and f.article_id > ${p.after} order by f.article_id limit ${p.limit}`);
      return found.map((r) => ({
        articleId: num(r.article_id),
        articleSlug: r.slug as string,
        createdAt: num(r.created_at),
      }));
    },
    async following(userId, p): Promise<ExportFollow[]> {
      const found = await rows(sql`select f.followee_id, u.username, f.created_at
        from follows f join users u on u.id = f.followee_id
        where f.follower_id = ${userId} and f.followee_id > ${p.after} order by f.followee_id limit ${p.limit}`);
      return found.map((r) => ({
        userId: num(r.followee_id),
        username: r.username as string,
        createdAt: num(r.created_at),
      }));
    },
    async sessions(userId, p): Promise<ExportSession[]> {
      // Session ids are compared byte-wise, as SQLite's BINARY collation compares them.
      const found = await rows(sql`select id, created_at, expires_at, revoked_at from sessions
        where user_id = ${userId} and id > (${p.after}::text collate "C") order by id collate "C" limit ${p.limit}`);
      return found.map((r) => ({
        id: r.id as string,
        createdAt: num(r.created_at),
        expiresAt: num(r.expires_at),
        endedAt: nullable(r.revoked_at),
      }));
    },
    async auditEntries(userId, p): Promise<ExportAuditEntry[]> {
      const found =
        await rows(sql`select id, at, action, actor_id is not distinct from ${userId}::bigint as by_user,
          case when actor_id is not distinct from ${userId}::bigint then ip end as ip
        from audit_log
        where (actor_id = ${userId} or (target_type = 'user' and target_id = ${String(userId)})) and id > ${p.after}
        order by id limit ${p.limit}`);
      return found.map((r) => ({
        id: num(r.id),
        at: num(r.at),
        action: r.action as string,
        byUser: r.by_user === true,
        ip: (r.ip as string | null) ?? null,
      }));
    },
    async ownArticles(userId) {
      const found = await rows(sql`select a.id, a.slug, a.author_id, ${tagArray} as tags
        from articles a where a.author_id = ${userId} order by a.id`);
      return found.map((r) => ({
        id: num(r.id),
        slug: r.slug as string,
        authorId: num(r.author_id),
        tags: r.tags as string[],
      }));
    },
    async commentsElsewhere(userId): Promise<OwnedComment[]> {
      const found =
        await rows(sql`select c.id, c.article_id, a.slug, c.author_id, c.body, c.created_at, c.updated_at
        from comments c join articles a on a.id = c.article_id
        where c.author_id = ${userId} and a.author_id <> ${userId} order by c.id`);
      return found.map((r) => ({
        id: num(r.id),
        articleId: num(r.article_id),
        slug: r.slug as string,
        authorId: num(r.author_id),
        body: r.body as string,
        createdAt: num(r.created_at),
        updatedAt: num(r.updated_at),
      }));
    },
    // Both statements run in the caller's unit of work: the counts and the rows cannot disagree.
    async releaseFavorites(userId) {
      const counts = await rows(sql`update articles set favorites_count = greatest(favorites_count - 1, 0)
        where id in (select article_id from favorites where user_id = ${userId}) and author_id <> ${userId}
        returning id, slug, favorites_count`);
      await db.execute(sql`delete from favorites where user_id = ${userId}`);
      return counts
        .map((r) => ({
          articleId: num(r.id),
          slug: r.slug as string,
          favoritesCount: num(r.favorites_count),
        }))
        .sort((a, b) => a.articleId - b.articleId);
    },
  };
}
