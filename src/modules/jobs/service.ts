/**
 * The jobs admin API: list, retry, and the figures metrics export. Payloads are never returned: they may hold
 * personal data (a user id, a webhook body), and the admin needs the state, not the content.
 */
import type { AppContext } from "../../context.ts";
import { AppError, notFound } from "../../errors.ts";
import { pageOf } from "../../lib/paging.ts";
import type { QueueStats } from "../../lib/queue.ts";
import type { JobRow, JobState } from "../../store/operations.ts";
import { type AdminActor, auditAdmin } from "../audit/service.ts";

type Row = JobRow;

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

export async function listJobs(
  ctx: AppContext,
  query: { state?: JobState; type?: string; limit?: string; offset?: string },
) {
  const page = pageOf(query);
  const filter = { ...(query.state && { state: query.state }), ...(query.type && { type: query.type }) };
  const [rows, n] = await Promise.all([
    ctx.store.read.jobs.list(filter, page),
    ctx.store.read.jobs.count(filter),
  ]);
  return { jobs: rows.map(toJob), jobsCount: n };
}

/** Run a dead (or waiting) job again now, with a fresh attempt budget. Running or done jobs: 409. */
export async function retryJob(ctx: AppContext, id: number, actor?: AdminActor) {
  const retried = await ctx.jobs.retry(id);
  if (retried) {
    await ctx.store.write((tx) =>
      auditAdmin(ctx, tx, "job.retried", actor, { type: "job", id }, { type: retried.type }),
    );
    ctx.log.info({ jobId: id, type: retried.type }, "job retried by an admin");
    return { job: toJob(retried) };
  }
  const row = await ctx.store.read.jobs.byId(id);
  if (!row) throw notFound("job");
  throw new AppError(409, { job: [`is ${row.state}`] });
}

/** Queue depth and failures, for the admin API and the metrics endpoint. */
export function jobStats(ctx: AppContext): Promise<QueueStats> {
  return ctx.jobs.stats();
}
