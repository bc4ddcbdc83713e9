/**
 * Domain event → what realtime publishes: the topics, the event name and the data, in the REST shapes
 * (articles as list items, without `body`; comments as in `GET …/comments`). Built inside the write's
 * transaction, where the rows can still be read (deletions are emitted before the row goes) and reflect
 * exactly this write, then published after the commit. Nothing private is read: no email, no token.
 *
 * The data is one message for every subscriber, so viewer-relative flags are from the anonymous viewpoint
 * (`favorited` and `author.following` false), except on `feed`, where the viewer follows the author by
 * definition.
 */
import type { DomainEvent } from "../../events.ts";
import type { Repos } from "../../store/repos.ts";
import { toListItem } from "../articles/service.ts";
import { feedKey } from "./topics.ts";

export interface Delivery {
  /** Topic name in the message (and the history it is kept in). */
  topic: string;
  /** Pub/sub key it is sent on: the topic name, or `feed:<authorId>` for the feed. */
  key: string;
  event: string;
  data: unknown;
  /** For the feed history: replays keep the events of authors the viewer follows. */
  authorId?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

async function articleItem(tx: Repos, slug: string) {
  const row = await tx.articles.bySlug(slug);
  return row ? toListItem(row) : undefined;
}

/** The deliveries for one event, read in its unit of work; empty for events realtime does not carry. */
export async function deliveriesFor(tx: Repos, e: DomainEvent): Promise<Delivery[]> {
  switch (e.type) {
    case "article.created": {
      const article = await articleItem(tx, e.slug);
      if (!article) return [];
      const data = { article };
      const feed = { article: { ...article, author: { ...article.author, following: true } } };
      return [
        { topic: "articles", key: "articles", event: e.type, data },
        ...[`profiles:${article.author.username}`, ...article.tagList.map((t) => `tags:${t}`)].map(
          (topic) => ({
            topic,
            key: topic,
            event: e.type,
            data,
          }),
        ),
        { topic: "feed", key: feedKey(e.authorId), event: e.type, data: feed, authorId: e.authorId },
      ];
    }
    case "article.updated": {
      const article = await articleItem(tx, e.slug);
      if (!article) return [];
      // Subscribers of the old slug learn the new one from `data.article.slug` (and should resubscribe).
      const topics = new Set([`articles:${e.previousSlug}`, `articles:${e.slug}`]);
      return [...topics].map((topic) => ({ topic, key: topic, event: e.type, data: { article } }));
    }
    case "article.deleted":
    case "article.favorited":
    case "article.unfavorited": {
      const article = await articleItem(tx, e.slug);
      if (!article) return [];
      if (e.type !== "article.deleted") article.favoritesCount = e.favoritesCount;
      const topic = `articles:${e.slug}`;
      return [{ topic, key: topic, event: e.type, data: { article } }];
    }
    case "comment.created":
    case "comment.deleted": {
      const c = e.comment;
      const data = {
        comment: {
          id: c.id,
          createdAt: iso(c.createdAt),
          updatedAt: iso(c.updatedAt),
          body: c.body,
          author: { ...c.author, following: false },
        },
      };
      const topic = `articles:${e.slug}`;
      return [{ topic, key: topic, event: e.type, data }];
    }
    default:
      return [];
  }
}
