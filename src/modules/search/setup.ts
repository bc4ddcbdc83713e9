/**
 * `search.reindex`: rewrites the search entries of existing articles whose text is not all ASCII, once,
 * after the index started to hold what src/lib/search-text.ts makes of it (CJK pairs, NFKC). ASCII text is
 * indexed the same as before, so those entries are left alone. Enqueued by
 * drizzle/sqlite/0007_search-reindex.sql when the database already had articles; runs in `quire serve`'s
 * workers.
 *
 * One job handles BATCH articles after the id in its payload, in one unit of work, then enqueues the next
 * step in the same unit and ends: progress survives a restart, no unit holds the write lock for long, and a
 * step that runs twice only writes the same entries again.
 */
import type { AppContext } from "../../context.ts";

export const SEARCH_REINDEX = "search.reindex";
const BATCH = 500;

/** Re-index the articles of one step after id `after`; returns the last id scanned, or undefined at the end. */
export function reindexStep(ctx: AppContext, after: number, batch = BATCH): Promise<number | undefined> {
  return ctx.store.write(async (tx) => {
    const next = await tx.articles.reindexAfter(after, batch);
    if (next !== undefined) {
      await ctx.jobs.enqueue(tx, SEARCH_REINDEX, { after: next }, { uniqueKey: `${SEARCH_REINDEX}:${next}` });
    }
    return next;
  });
}

export function setupSearch(ctx: AppContext): void {
  ctx.jobs.register<{ after?: number }>(SEARCH_REINDEX, async (job) => {
    if ((await reindexStep(ctx, job.payload.after ?? 0)) !== undefined) ctx.jobs.wake();
  });
}
