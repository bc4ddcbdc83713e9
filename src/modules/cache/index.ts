/**
 * What Quire keeps in memory, and under which keys. Every entry is viewer-independent: the anonymous
 * representation, serialized once (CachedJson). A signed-in reader's `favorited`/`following` flags are
 * never cached; they are read per request with one indexed query and overlaid on the shared entry
 * (src/modules/articles/views.ts), so no reader is ever served another reader's flags.
 *
 * Staleness: every write that changes a cached fact deletes its entries right after commit, before the
 * write's response is sent (src/modules/cache/invalidation.ts), so a read after a write never sees the old
 * value. On a cluster, the other nodes drop theirs before the write is answered too, and a node that may
 * have missed a write bypasses its caches until it has caught up (src/infra/redis/bus.ts). The TTL only
 * bounds how long a write made by another process without events (a restore, raw SQL) can go unseen.
 */
import type { Config } from "../../config.ts";
import type { Profile } from "../../http/model.ts";
import { type CacheStats, TtlCache } from "../../lib/cache.ts";
import type { CachedJson } from "../../lib/cached-json.ts";
import type { Clock } from "../../lib/clock.ts";
import type { ArticleListItem, Article as ArticleSchema } from "../articles/model.ts";

export type ArticleView = typeof ArticleSchema.static;
export type ListItemView = typeof ArticleListItem.static;
export type ProfileView = typeof Profile.static;

/** An article as anyone sees it (`favorited`, `following` false), by slug. */
export interface ArticleEntry {
  id: number;
  authorId: number;
  article: ArticleView;
  body: CachedJson;
}

/** A profile as anyone sees it, by lower-cased username; `id` also resolves `?author=`/`?favorited=`. */
export interface ProfileEntry {
  id: number;
  profile: ProfileView;
  body: CachedJson;
}

/** One page of a list or a search, with its total, as anyone sees it. */
export interface ListEntry {
  items: ListItemView[];
  /** Article and author ids of `items`, for the viewer's flag overlay. */
  ids: number[];
  authorIds: number[];
  count: number;
  body: CachedJson;
}

export interface Caches {
  readonly articles: TtlCache<string, ArticleEntry>;
  readonly profiles: TtlCache<string, ProfileEntry>;
  /** One entry: the tag list. */
  readonly tags: TtlCache<"all", CachedJson>;
  /** Pages of /api/articles (lists and searches) by their normalised query. */
  readonly lists: TtlCache<string, ListEntry>;
  /** Feed pages, by reader (`feedKey`): only ever read back for that reader. */
  readonly feeds: TtlCache<string, ListEntry>;
  /** Totals of list filters (`countKeys`), shared by every page and page size of that filter. */
  readonly counts: TtlCache<string, number>;
}

const bodySize = (body: CachedJson) => body.json.length;

/** Shares of CACHE_MAX_BYTES. Entries hold their JSON and the object it came from: about twice its length. */
export function createCaches(
  config: Pick<Config, "CACHE_TTL_MS" | "CACHE_MAX_BYTES" | "CACHE_MAX_ENTRIES">,
  clock: Clock,
  /** A cluster node's trust (see TtlCache): false while it may have missed another node's write. */
  trusted?: () => boolean,
): Caches {
  const now = () => clock.now();
  const ttlMs = config.CACHE_TTL_MS;
  const max = config.CACHE_MAX_ENTRIES;
  const bytes = (share: number) => Math.floor(config.CACHE_MAX_BYTES * share);
  return {
    articles: new TtlCache({
      name: "articles",
      max,
      maxBytes: bytes(0.4),
      ttlMs,
      now,
      trusted,
      sizeOf: (e) => 2 * bodySize(e.body) + 128,
    }),
    profiles: new TtlCache({
      name: "profiles",
      max,
      maxBytes: bytes(0.1),
      ttlMs,
      now,
      trusted,
      sizeOf: (e) => 2 * bodySize(e.body) + 128,
    }),
    tags: new TtlCache({
      name: "tags",
      max: 1,
      maxBytes: bytes(0.05),
      ttlMs,
      now,
      trusted,
      sizeOf: bodySize,
    }),
    lists: new TtlCache({
      name: "lists",
      max,
      maxBytes: bytes(0.23),
      ttlMs,
      now,
      trusted,
      sizeOf: (e, key) => 2 * bodySize(e.body) + 16 * e.ids.length + key.length + 128,
    }),
    feeds: new TtlCache({
      name: "feeds",
      max,
      maxBytes: bytes(0.15),
      ttlMs,
      now,
      trusted,
      sizeOf: (e, key) => 2 * bodySize(e.body) + 16 * e.ids.length + key.length + 128,
    }),
    counts: new TtlCache({
      name: "counts",
      max,
      maxBytes: bytes(0.02),
      ttlMs,
      now,
      trusted,
      sizeOf: (_n, key) => 48 + key.length,
    }),
  };
}

/** Hit/miss/eviction counters and sizes of every cache, for metrics. */
export function cacheStats(caches: Caches): CacheStats[] {
  return Object.values(caches).map((c: TtlCache<never, never>) => c.stats());
}

/** Drop every entry (an operator's restore, a node that missed invalidations). */
export function clearCaches(caches: Caches): void {
  for (const cache of Object.values(caches) as TtlCache<never, never>[]) cache.clear();
}

/**
 * Keys of `counts`. Only unfiltered and single-filter totals are cached: they are what the RealWorld front
 * ends ask for, and each can be invalidated exactly. Combined filters are counted per request (their most
 * selective filter drives the count through an index).
 */
export const countKeys = {
  all: "all",
  tag: (name: string) => `t:${name}`,
  author: (id: number) => `a:${id}`,
  favorited: (id: number) => `f:${id}`,
} as const;

/** Key of a feed page; every key of one reader starts with `feedKey(reader)`. */
export const feedKey = (reader: number, page?: { limit: number; offset: number }) =>
  page ? `${reader}:${page.limit}:${page.offset}` : `${reader}:`;

/**
 * The profiles key of a username. Usernames are unique under SQLite's lower(), which folds ASCII only, so
 * the key folds ASCII only: a JavaScript toLowerCase() would merge names the database keeps apart.
 */
export function usernameKey(username: string): string {
  return username.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}
