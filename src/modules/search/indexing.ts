/**
 * Writing the full-text index (drizzle/0002_search.sql: FTS5, contentless, rowid = articles.id). An
 * article's entry is written from its row and tags through `indexText` (./text.ts), in the transaction of
 * the write that changed them; the delete trigger removes it with the row.
 */
import { eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { articles } from "../../db/schema.ts";
import { perOwner } from "../../lib/memo.ts";
import { articlesFts } from "./fts-table.ts";
import { indexText } from "./text.ts";

const ph = (name: string) => sql.placeholder(name);

const statements = perOwner((db: Db) => ({
  source: db
    .select({
      title: articles.title,
      description: articles.description,
      body: articles.body,
      // Spelled out: Drizzle leaves columns unqualified in a one-table select, and an unqualified "id"
      // inside this subquery would be the tag's.
      tags: sql<string>`coalesce((select group_concat(t.name, ' ') from article_tags at join tags t on t.id = at.tag_id where at.article_id = "articles"."id"), '')`,
    })
    .from(articles)
    .where(eq(articles.id, ph("article")))
    .prepare(),
  remove: db
    .delete(articlesFts)
    .where(eq(articlesFts.rowid, ph("article")))
    .prepare(),
  insert: db
    .insert(articlesFts)
    .values({
      rowid: ph("article"),
      title: ph("title"),
      description: ph("description"),
      body: ph("body"),
      tags: ph("tags"),
    })
    .prepare(),
}));

/**
 * Write the entry of article `id` from its current row and tags (run it after they are written, in the same
 * transaction). `replace`: drop the entry it had first (updates, re-indexing); a new article has none.
 */
export function indexArticle(db: Db, id: number, { replace }: { replace: boolean }): void {
  const s = statements(db);
  if (replace) s.remove.run({ article: id });
  const row = s.source.get({ article: id });
  if (!row) return;
  s.insert.run({
    article: id,
    title: indexText(row.title),
    description: indexText(row.description),
    body: indexText(row.body),
    tags: indexText(row.tags),
  });
}
