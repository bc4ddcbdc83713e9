/**
 * The job queue's statements on SQLite (the queue itself, engine-neutral, is src/lib/queue.ts). Every
 * timestamp is epoch milliseconds from the queue's clock, never SQLite's.
 *
 * The claim is one UPDATE … RETURNING whose subquery has two branches, each walking jobs_ready_idx in order
 * and stopping at its first row; a single `(pending AND due) OR (running AND expired)` made SQLite collect
 * and sort every due job on each claim (quadratic: 5 000 queued no-op jobs drained at ~2 000/s instead of
 * ~8 000/s). Every transition of a claimed job is guarded by `locked_by = <claim> AND state = 'running'`, so
 * a worker whose lease lapsed (and whose job another process took over) changes nothing.
 */
import { and, count, desc, eq, type SQL, sql } from "drizzle-orm";
import type { JobRow, JobsRepo, JobTransition } from "../../../store/operations.ts";
import type { SqliteDb } from "../client.ts";
import { jobs } from "../schema.ts";
import { jsonList, lazy } from "./lazy.ts";

const ph = (name: string) => sql.placeholder(name);
/** A placeholder where Drizzle wants an SQL value (the SET of an UPDATE). */
const to = (name: string) => sql`${ph(name)}`;
const claimed = and(eq(jobs.id, ph("id")), eq(jobs.lockedBy, ph("lock")), eq(jobs.state, "running"));
const released = { lockedUntil: null, lockedBy: null, updatedAt: to("now") };

function filterOf(f: { state?: string; type?: string }): SQL | undefined {
  return and(
    f.state !== undefined ? eq(jobs.state, f.state as JobRow["state"]) : undefined,
    f.type !== undefined ? eq(jobs.type, f.type) : undefined,
  );
}

export function sqliteJobs(db: SqliteDb): JobsRepo {
  const due = (state: "pending" | "running") =>
    sql`SELECT id, run_at FROM jobs WHERE state = ${state} AND ${
      state === "pending" ? sql`run_at <= ${ph("now")}` : sql`locked_until < ${ph("now")}`
    } AND type IN (SELECT value FROM json_each(${ph("types")})) ORDER BY run_at, id LIMIT 1`;
  const q = lazy(() => ({
    enqueue: db
      .insert(jobs)
      .values({
        type: ph("type"),
        payload: ph("payload"),
        state: "pending",
        runAt: ph("runAt"),
        maxAttempts: ph("maxAttempts"),
        uniqueKey: ph("uniqueKey"),
        createdAt: ph("now"),
        updatedAt: ph("now"),
      })
      .onConflictDoNothing({ target: jobs.uniqueKey })
      .returning({ id: jobs.id })
      .prepare(),
    scheduleRecurring: db
      .insert(jobs)
      .values({
        type: ph("type"),
        payload: "{}",
        state: "pending",
        runAt: ph("now"),
        maxAttempts: ph("maxAttempts"),
        uniqueKey: ph("uniqueKey"),
        createdAt: ph("now"),
        updatedAt: ph("now"),
      })
      .onConflictDoUpdate({
        target: jobs.uniqueKey,
        set: {
          state: sql`CASE WHEN ${jobs.state} IN ('done', 'dead') THEN 'pending' ELSE ${jobs.state} END`,
          runAt: sql`CASE WHEN ${jobs.state} = 'running' THEN ${jobs.runAt} ELSE min(${jobs.runAt}, ${ph("now")} + ${ph("intervalMs")}) END`,
        },
      })
      .prepare(),
    claim: db
      .update(jobs)
      .set({
        state: "running",
        lockedUntil: sql`${ph("now")} + ${ph("leaseMs")}`,
        lockedBy: to("lock"),
        attempts: sql`${jobs.attempts} + 1`,
        updatedAt: to("now"),
      })
      .where(
        eq(
          jobs.id,
          sql`(SELECT id FROM (SELECT * FROM (${due("pending")}) UNION ALL SELECT * FROM (${due("running")})) ORDER BY run_at, id LIMIT 1)`,
        ),
      )
      .returning()
      .prepare(),
    extend: db
      .update(jobs)
      .set({ lockedUntil: to("until") })
      .where(claimed)
      .returning({ id: jobs.id })
      .prepare(),
    postpone: db
      .update(jobs)
      .set({
        state: "pending",
        attempts: sql`max(${jobs.attempts} - 1, 0)`,
        runAt: to("runAt"),
        // A release at shutdown has no error of its own: the last one stays.
        lastError: sql`coalesce(${ph("error")}, ${jobs.lastError})`,
        ...released,
      })
      .where(claimed)
      .returning({ id: jobs.id })
      .prepare(),
    retryLater: db
      .update(jobs)
      .set({
        state: "pending",
        runAt: to("runAt"),
        lastError: to("error"),
        attempts: sql`CASE WHEN ${ph("reset")} THEN 0 ELSE ${jobs.attempts} END`,
        ...released,
      })
      .where(claimed)
      .returning({ id: jobs.id })
      .prepare(),
    next: db
      .update(jobs)
      .set({ state: "pending", attempts: 0, runAt: to("runAt"), lastError: null, ...released })
      .where(claimed)
      .returning({ id: jobs.id })
      .prepare(),
    finish: db
      .update(jobs)
      .set({ state: to("state") as never, finishedAt: to("now"), lastError: to("error"), ...released })
      .where(claimed)
      .returning({ id: jobs.id })
      .prepare(),
    retry: db
      .update(jobs)
      .set({ state: "pending", attempts: 0, runAt: to("now"), finishedAt: null, ...released })
      .where(and(eq(jobs.id, ph("id")), sql`${jobs.state} IN ('dead', 'pending')`))
      .returning()
      .prepare(),
    byId: db
      .select()
      .from(jobs)
      .where(eq(jobs.id, ph("id")))
      .prepare(),
    countsByTypeAndState: db
      .select({ type: jobs.type, state: jobs.state, n: count() })
      .from(jobs)
      .groupBy(jobs.type, jobs.state)
      .prepare(),
    backlog: db
      .select({
        retrying: sql<number | null>`sum(${jobs.attempts} > 0)`,
        ready: sql<number | null>`sum(${jobs.runAt} <= ${ph("now")})`,
        oldest: sql<number | null>`min(CASE WHEN ${jobs.runAt} <= ${ph("now")} THEN ${jobs.runAt} END)`,
      })
      .from(jobs)
      .where(eq(jobs.state, "pending"))
      .prepare(),
  }));

  // RETURNING is read with .all(): .get() would leave the statement open and pin the WAL.
  const transition = (id: number, lock: string, change: JobTransition, now: number): boolean => {
    const s = q();
    const base = { id, lock, now };
    switch (change.to) {
      case "postponed":
        return s.postpone.all({ ...base, runAt: change.runAt, error: change.error }).length > 0;
      case "retry":
        return (
          s.retryLater.all({
            ...base,
            runAt: change.runAt,
            error: change.error,
            reset: change.resetAttempts ? 1 : 0,
          }).length > 0
        );
      case "next":
        return s.next.all({ ...base, runAt: change.runAt }).length > 0;
      default:
        return s.finish.all({ ...base, state: change.to, error: change.error }).length > 0;
    }
  };

  return {
    async enqueue(job) {
      return q().enqueue.all({ ...job })[0]?.id;
    },
    async scheduleRecurring(job) {
      q().scheduleRecurring.run({ ...job });
    },
    async claim(types, now, leaseMs, lock) {
      if (types.length === 0) return undefined;
      return q().claim.all({ types: jsonList(types), now, leaseMs, lock })[0];
    },
    async extend(id, lock, until) {
      return q().extend.all({ id, lock, until }).length > 0;
    },
    async transition(id, lock, change, now) {
      return transition(id, lock, change, now);
    },
    async retry(id, now) {
      return q().retry.all({ id, now })[0];
    },
    async byId(id) {
      return q().byId.get({ id });
    },
    async list(filter, page) {
      return db
        .select()
        .from(jobs)
        .where(filterOf(filter))
        .orderBy(desc(jobs.id))
        .limit(page.limit)
        .offset(page.offset)
        .all();
    },
    async count(filter) {
      return db.select({ n: count() }).from(jobs).where(filterOf(filter)).get()?.n ?? 0;
    },
    // A scan of the jobs table (no index on payloads): it holds JOBS_RETENTION_DAYS of jobs, and accounts
    // are deleted rarely.
    async deleteForUser(types, userId) {
      return db
        .delete(jobs)
        .where(
          sql`${jobs.state} <> 'running' AND ${jobs.type} IN (SELECT value FROM json_each(${jsonList(types)}))
              AND json_extract(${jobs.payload}, '$.userId') = ${userId}`,
        )
        .returning({ id: jobs.id })
        .all().length;
    },
    async counts(now) {
      const s = q();
      const backlog = s.backlog.get({ now });
      return {
        byTypeAndState: s.countsByTypeAndState.all(),
        retrying: backlog?.retrying ?? 0,
        ready: backlog?.ready ?? 0,
        oldestReadyAt: backlog?.oldest ?? null,
      };
    },
  };
}
