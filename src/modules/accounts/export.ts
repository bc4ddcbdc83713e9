/**
 * The data export (GET /api/user/export): everything the account owns or did, as one JSON document, written
 * piece by piece. Each list is read in keyset pages (50 articles, 500 of anything else), so memory stays
 * bounded whatever the account wrote: the largest article is ~100 KB, so a page holds at most ~5 MB.
 *
 * What is in it: the profile and account (address, verification, role), articles with bodies and tags,
 * comments (with the article's slug), favourites, follows, sessions (times only) and the audit entries by or
 * about the account (client addresses only of entries the account made). What never is: the password hash,
 * token hashes, session ids, refresh tokens, other people's addresses (an admin's included).
 *
 * The pages are read one after another, not in one snapshot: writes made while an export streams may or may
 * not be in it. The export is audited (`user.exported`): a stolen token taking everything leaves a trace.
 */
import type { AppContext } from "../../context.ts";
import { AppError } from "../../errors.ts";
import type { After } from "../../store/lifecycle.ts";
import { recordAuditNow } from "../audit/service.ts";
import type { RequestMeta } from "../users/service.ts";

const ARTICLES_PAGE = 50;
const PAGE = 500;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export interface AccountExport {
  /** `quire-export-<username>-<YYYY-MM-DD>.json` (usernames are `[A-Za-z0-9_.-]`, safe in a header). */
  filename: string;
  /** The JSON text, in pieces. */
  chunks: AsyncGenerator<string>;
}

/** Every row of a keyset-paged list, mapped, as comma-separated JSON. */
async function* list<R, K>(
  read: (page: After<K>) => Promise<R[]>,
  keyOf: (row: R) => K,
  first: K,
  limit: number,
  shape: (row: R) => unknown,
): AsyncGenerator<string> {
  let after = first;
  let separator = "";
  for (;;) {
    const rows = await read({ after, limit });
    if (rows.length === 0) return;
    yield separator + rows.map((r) => JSON.stringify(shape(r))).join(",");
    separator = ",";
    if (rows.length < limit) return;
    after = keyOf(rows.at(-1)!);
  }
}

export async function exportAccount(
  ctx: AppContext,
  viewer: { id: number; sessionId: string },
  meta: RequestMeta = {},
): Promise<AccountExport> {
  const user = await ctx.store.read.users.byId(viewer.id);
  if (!user) throw new AppError(401, { token: ["is invalid"] });
  await recordAuditNow(ctx, {
    action: "user.exported",
    actorId: user.id,
    targetType: "user",
    targetId: user.id,
    ip: meta.ip,
  });
  const now = ctx.clock.now();
  const data = ctx.store.read.accountData;
  const id = user.id;
  const head = {
    exportedAt: iso(now),
    user: {
      username: user.username,
      email: user.email,
      emailVerified: user.emailVerifiedAt !== null,
      emailVerifiedAt: iso(user.emailVerifiedAt),
      bio: user.bio,
      image: user.image,
      role: user.role,
      suspended: user.suspended,
      createdAt: iso(user.createdAt),
      updatedAt: iso(user.updatedAt),
    },
  };
  async function* chunks(): AsyncGenerator<string> {
    yield `${JSON.stringify(head).slice(0, -1)},"articles":[`;
    yield* list(
      (p) => data.articles(id, p),
      (a) => a.id,
      0,
      ARTICLES_PAGE,
      (a) => ({
        slug: a.slug,
        title: a.title,
        description: a.description,
        body: a.body,
        tagList: a.tagList,
        favoritesCount: a.favoritesCount,
        createdAt: iso(a.createdAt),
        updatedAt: iso(a.updatedAt),
      }),
    );
    yield '],"comments":[';
    yield* list(
      (p) => data.comments(id, p),
      (c) => c.id,
      0,
      PAGE,
      (c) => ({
        id: c.id,
        article: { slug: c.articleSlug },
        body: c.body,
        createdAt: iso(c.createdAt),
        updatedAt: iso(c.updatedAt),
      }),
    );
    yield '],"favorites":[';
    yield* list(
      (p) => data.favorites(id, p),
      (f) => f.articleId,
      0,
      PAGE,
      (f) => ({ article: { slug: f.articleSlug }, createdAt: iso(f.createdAt) }),
    );
    yield '],"following":[';
    yield* list(
      (p) => data.following(id, p),
      (f) => f.userId,
      0,
      PAGE,
      (f) => ({ username: f.username, since: iso(f.createdAt) }),
    );
    yield '],"sessions":[';
    yield* list(
      (p) => data.sessions(id, p),
      (s) => s.id,
      "",
      PAGE,
      (s) => ({
        createdAt: iso(s.createdAt),
        expiresAt: iso(s.expiresAt),
        endedAt: iso(s.endedAt),
        current: s.id === viewer.sessionId,
      }),
    );
    yield '],"auditLog":[';
    yield* list(
      (p) => data.auditEntries(id, p),
      (e) => e.id,
      0,
      PAGE,
      (e) => ({ at: iso(e.at), action: e.action, byYou: e.byUser, ip: e.ip }),
    );
    yield "]}";
  }
  const day = new Date(now).toISOString().slice(0, 10);
  return { filename: `quire-export-${user.username}-${day}.json`, chunks: chunks() };
}
