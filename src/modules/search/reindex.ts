/**
 * `search.reindex`: rewrites the index entries of existing articles whose text is not all ASCII, once, after
 * the index started to hold what ./text.ts makes of it (CJK pairs, NFKC). ASCII text is indexed the same as
 * before, so those entries are left alone. Enqueued by drizzle/0007_search-reindex.sql when the database
 * already had articles; runs in `quire serve`'s workers.
 *
 * One job scans BATCH articles after the id in its payload, in one transaction, then enqueues the next step
 * and ends: progress survives a restart, no transaction holds the write lock for long, and a step that runs
 * twice (a crash before its successor was enqueued) only writes the same entries again.
 */
import { asc, gt, sql } from "drizzle-orm";
import type { AppContext } from "../../context.ts";
import { articles } from "../../db/schema.ts";
import { indexArticle } from "./indexing.ts";

export const SEARCH_REINDEX = "search.reindex";
const BATCH = 500;

/** Any UTF-16 code unit above ASCII. */
const nonAscii = /[\u0080-\uffff]/;

/** Re-index the articles of one step after id `after`; returns the last id scanned, or undefined at the end. */
export function reindexStep(ctx: AppContext, after: number, batch = BATCH): number | undefined {
  return ctx.db.transaction(() => {
    const rows = ctx.db
      .select({
        id: articles.id,
        text: sql<string>`${articles.title} || ${articles.description} || ${articles.body} || coalesce((select group_concat(t.name, '') from article_tags at join tags t on t.id = at.tag_id where at.article_id = "articles"."id"), '')`,
      })
      .from(articles)
      .where(gt(articles.id, after))
      .orderBy(asc(articles.id))
      .limit(batch)
      .all();
    for (const row of rows) if (nonAscii.test(row.text)) indexArticle(ctx.db, row.id, { replace: true });
    return rows.length === batch ? rows.at(-1)!.id : undefined;
  });
}

export function setupSearch(ctx: AppContext): void {
  ctx.jobs.register<{ after?: number }>(SEARCH_REINDEX, (job) => {
    const next = reindexStep(ctx, job.payload.after ?? 0);
    if (next !== undefined) {
      ctx.jobs.enqueue(SEARCH_REINDEX, { after: next }, { uniqueKey: `${SEARCH_REINDEX}:${next}` });
    }
  });
}
