/**
 * The jobs admin API: list, retry, and the figures metrics export. Payloads are never returned: they may hold
 * personal data (a user id, a webhook body), and the admin needs the state, not the content.
 */
import { and, count, desc, eq, type SQL } from "drizzle-orm";
import type { AppContext } from "../../context.ts";
import { type JobState, jobs } from "../../db/schema.ts";
import { AppError, notFound } from "../../errors.ts";
import type { QueueStats } from "../../lib/queue.ts";
import { pageOf } from "../shared/model.ts";
import { type AdminActor, auditAdmin } from "./audit.ts";

type Row = typeof jobs.$inferSelect;

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export const toJob = (r: Row) => ({
  id: r.id,
  type: r.type,
  state: r.state,
  attempts: r.attempts,
  maxAttempts: r.maxAttempts,
  runAt: iso(r.runAt),
  lockedUntil: isoOrNull(r.lockedUntil),
  lockedBy: r.lockedBy,
  uniqueKey: r.uniqueKey,
  lastError: r.lastError,
  createdAt: iso(r.createdAt),
  updatedAt: iso(r.updatedAt),
  finishedAt: isoOrNull(r.finishedAt),
});

export function listJobs(
  ctx: AppContext,
  query: { state?: JobState; type?: string; limit?: string; offset?: string },
) {
  const page = pageOf(query);
  const filters: SQL[] = [];
  if (query.state) filters.push(eq(jobs.state, query.state));
  if (query.type) filters.push(eq(jobs.type, query.type));
  const where = filters.length > 0 ? and(...filters) : undefined;
  const rows = ctx.db
    .select()
    .from(jobs)
    .where(where)
    .orderBy(desc(jobs.id))
    .limit(page.limit)
    .offset(page.offset)
    .all();
  const [{ n }] = ctx.db.select({ n: count() }).from(jobs).where(where).all() as [{ n: number }];
  return { jobs: rows.map(toJob), jobsCount: n };
}

/** Run a dead (or waiting) job again now, with a fresh attempt budget. Running or done jobs: 409. */
export function retryJob(ctx: AppContext, id: number, actor?: AdminActor) {
  const retried = ctx.jobs.retry(id);
  if (retried) {
    auditAdmin(ctx, "job.retried", actor, { type: "job", id }, { type: retried.type });
    ctx.log.info({ jobId: id, type: retried.type }, "job retried by an admin");
    return { job: toJob(ctx.db.select().from(jobs).where(eq(jobs.id, id)).get()!) };
  }
  const row = ctx.db.select({ state: jobs.state }).from(jobs).where(eq(jobs.id, id)).get();
  if (!row) throw notFound("job");
  throw new AppError(409, { job: [`is ${row.state}`] });
}

/** Queue depth and failures, for the admin API and the metrics endpoint. */
export function jobStats(ctx: AppContext): QueueStats {
  return ctx.jobs.stats();
}
