/**
 * Which writes drop which cache entries. Handlers run after commit, synchronously, before the write's HTTP
 * response is sent (src/lib/events.ts), so the writer's next read, and everyone else's, misses and reloads.
 * Entries are deleted, so whoever reloads first reads committed data and handler order does not matter;
 * the one exception, a favourite count, is patched with the value the write committed, which is just as
 * order-independent.
 *
 *   write                      articles        lists, feeds  counts                          tags  profiles
 *   article.created            -               all           all, its tags, its author        yes   -
 *   article.updated            old+new slug    all           every tag total                  yes   -
 *   article.deleted            slug            all           all, tags, author, favoriteds    yes   -
 *   article.(un)favorited      patched count   all           that user's favorites            -     -
 *   user.updated               their articles  all           -                                -     old+new name
 *   user.deleted               -               their feed    their articles, their favorites  -     name
 *   follow.changed             -               the follower's feed pages                  -     -
 *
 * Lists are dropped whole: a page shows favourite counts, titles, tags and authors of 20 articles, and
 * tracking which pages hold which article costs more than rebuilding a page (one indexed query; the
 * expensive part, the total, survives in `counts`). A deleted account's articles and favourites are dropped
 * by the `article.deleted` and `article.unfavorited` events its deletion emits first; `user.deleted` drops
 * what is keyed by the account itself. Comments and sign-ups change nothing cached:
 * `following` and `favorited` are overlaid per reader, and unknown names are never cached.
 */
import type { DomainEvent } from "../../events.ts";
import { CachedJson } from "../../lib/cached-json.ts";
import type { DomainEvents } from "../../lib/events.ts";
import { type ArticleEntry, type Caches, countKeys, feedKey, usernameKey } from "./index.ts";

export function invalidateOnWrites<Tx>(caches: Caches, events: DomainEvents<DomainEvent, Tx>): () => void {
  return events.on({ afterCommit: (event) => invalidate(caches, event) });
}

export function invalidate(caches: Caches, event: DomainEvent): void {
  switch (event.type) {
    case "article.created":
    case "article.deleted": {
      if (event.type === "article.deleted") {
        caches.articles.delete(event.slug);
        // Whoever had favourited it has one favourite fewer; who that was is gone with the rows.
        caches.counts.deleteWhere((_n, key) => key.startsWith("f:"));
      }
      caches.lists.clear();
      caches.feeds.clear();
      caches.counts.delete(countKeys.all);
      caches.counts.delete(countKeys.author(event.authorId));
      for (const tag of event.tags) caches.counts.delete(countKeys.tag(tag));
      if (event.tags.length > 0) caches.tags.clear();
      return;
    }
    case "article.updated":
      caches.articles.delete(event.previousSlug);
      caches.articles.delete(event.slug);
      caches.lists.clear();
      caches.feeds.clear();
      // The event carries the new tags only; the old ones lost (or gained) an article too.
      caches.counts.deleteWhere((_n, key) => key.startsWith("t:"));
      caches.tags.clear();
      return;
    case "article.favorited":
    case "article.unfavorited": {
      // The event carries the count as committed, so the cached article is patched rather than reloaded:
      // the favouriting reader's response and everyone's next read skip a query.
      const entry = caches.articles.peek(event.slug);
      if (entry) caches.articles.set(event.slug, withFavoritesCount(entry, event.favoritesCount));
      caches.lists.clear();
      caches.feeds.clear();
      caches.counts.delete(countKeys.favorited(event.userId));
      return;
    }
    case "user.updated":
      caches.profiles.delete(usernameKey(event.previousUsername));
      caches.profiles.delete(usernameKey(event.username));
      // Their name, bio and image are embedded in their articles and in every page that lists one.
      caches.articles.deleteWhere((entry) => entry.authorId === event.userId);
      caches.lists.clear();
      caches.feeds.clear();
      return;
    case "user.deleted": {
      // A cached profile also resolves `?author=<name>` to an id: the name may belong to someone else next.
      caches.profiles.delete(usernameKey(event.username));
      caches.counts.delete(countKeys.author(event.userId));
      caches.counts.delete(countKeys.favorited(event.userId));
      const prefix = feedKey(event.userId);
      caches.feeds.deleteWhere((_entry, key) => key.startsWith(prefix));
      return;
    }
    case "follow.changed": {
      const prefix = feedKey(event.followerId);
      caches.feeds.deleteWhere((_entry, key) => key.startsWith(prefix));
      return;
    }
    default:
      return;
  }
}

function withFavoritesCount(entry: ArticleEntry, favoritesCount: number): ArticleEntry {
  const article = { ...entry.article, favoritesCount };
  return { ...entry, article, body: CachedJson.of({ article }) };
}
