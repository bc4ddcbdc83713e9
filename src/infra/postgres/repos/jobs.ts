/**
 * The job queue's statements on Postgres: the twins of src/lib/queue-sql.ts. Every timestamp is epoch
 * milliseconds from the queue's clock, never the server's.
 *
 * The claim locks its row with FOR UPDATE SKIP LOCKED, so concurrent claimers (other loops, other
 * processes) pass over a job another one is taking instead of waiting for it, and never get the same job.
 * As on SQLite, the two ways a job becomes due (pending and due; running with a lapsed lease) are two
 * branches, each walking jobs_ready_idx in order and stopping at its first row; Postgres refuses FOR UPDATE
 * on a UNION, so each branch locks its own candidate in a CTE and the earlier one is taken (the other's row
 * lock ends with the unit, a moment later).
 *
 * Units run SERIALIZABLE (../store.ts): a claimer whose snapshot still shows a job pending that another
 * claimer has just taken fails with 40001 and the store runs its unit again with a fresh snapshot.
 */
import { and, count, desc, eq, type SQL, sql } from "drizzle-orm";
import type { JobCounts, JobRow, JobState, JobsRepo, JobTransition } from "../../../store/operations.ts";
import { jobs } from "../schema.ts";
import { lazy, num, type PgDb, ph } from "./shared.ts";

type Raw = Record<string, unknown>;

/** A `RETURNING *` row (snake_case, int8 as strings) as a JobRow. */
const toJob = (r: Raw): JobRow => ({
  id: num(r.id),
  type: r.type as string,
  payload: r.payload as string,
  state: r.state as JobState,
  attempts: num(r.attempts),
  maxAttempts: num(r.max_attempts),
  runAt: num(r.run_at),
  lockedUntil: r.locked_until === null ? null : num(r.locked_until),
  lockedBy: (r.locked_by as string | null) ?? null,
  uniqueKey: (r.unique_key as string | null) ?? null,
  lastError: (r.last_error as string | null) ?? null,
  createdAt: num(r.created_at),
  updatedAt: num(r.updated_at),
  finishedAt: r.finished_at === null ? null : num(r.finished_at),
});

/** Guard of every transition: only the claim that holds the job changes it. */
const held = (id: number, lock: string) => sql`id = ${id} and locked_by = ${lock} and state = 'running'`;

function transitionSql(change: JobTransition, now: number): SQL {
  switch (change.to) {
    case "postponed":
      // No attempt spent. Released at shutdown (no error): the last error stays as it was.
      return sql`state = 'pending', attempts = greatest(attempts - 1, 0), run_at = ${change.runAt},
        last_error = coalesce(${change.error}::text, last_error), locked_until = null, locked_by = null,
        updated_at = ${now}`;
    case "retry":
      return sql`state = 'pending', run_at = ${change.runAt}, last_error = ${change.error}, locked_until = null,
        locked_by = null, attempts = case when ${change.resetAttempts}::boolean then 0 else attempts end,
        updated_at = ${now}`;
    case "next":
      return sql`state = 'pending', attempts = 0, run_at = ${change.runAt}, last_error = null,
        locked_until = null, locked_by = null, updated_at = ${now}`;
    default:
      return sql`state = ${change.to}, finished_at = ${now}, updated_at = ${now}, locked_until = null,
        locked_by = null, last_error = ${change.error}::text`;
  }
}

function filterOf(f: { state?: JobState; type?: string }) {
  return and(
    f.state !== undefined ? eq(jobs.state, f.state) : undefined,
    f.type !== undefined ? eq(jobs.type, f.type) : undefined,
  );
}

export function pgJobs(db: PgDb): JobsRepo {
  const q = lazy(() => ({
    byId: db
      .select()
      .from(jobs)
      .where(eq(jobs.id, ph("id")))
      .prepare("job_by_id"),
  }));
  const rows = async (query: SQL) => ((await db.execute(query)) as unknown as Raw[]).map(toJob);
  const changed = async (query: SQL) => ((await db.execute(query)) as unknown as Raw[]).length > 0;
  return {
    async enqueue(job) {
      const [row] = (await db.execute(sql`
        insert into jobs (type, payload, state, run_at, max_attempts, unique_key, created_at, updated_at)
        values (${job.type}, ${job.payload}, 'pending', ${job.runAt}, ${job.maxAttempts}, ${job.uniqueKey}, ${job.now}, ${job.now})
        on conflict (unique_key) do nothing
        returning id`)) as unknown as Raw[];
      return row ? num(row.id) : undefined;
    },
    async scheduleRecurring(job) {
      // A running row is left alone (no overlap); a waiting row is pulled forward if the interval shrank; a
      // done/dead row (should not happen) is revived. In DO UPDATE, bare columns are the existing row's.
      await db.execute(sql`
        insert into jobs (type, payload, state, run_at, max_attempts, unique_key, created_at, updated_at)
        values (${job.type}, '{}', 'pending', ${job.now}, ${job.maxAttempts}, ${job.uniqueKey}, ${job.now}, ${job.now})
        on conflict (unique_key) do update set
          state = case when jobs.state in ('done', 'dead') then 'pending' else jobs.state end,
          run_at = case when jobs.state = 'running' then jobs.run_at
                        else least(jobs.run_at, ${job.now}::bigint + ${job.intervalMs}::bigint) end`);
    },
    async claim(types, now, leaseMs, lock) {
      if (types.length === 0) return undefined;
      const handled = sql.param([...types]);
      const [row] = await rows(sql`
        with pending as (
          select id, run_at from jobs
          where state = 'pending' and run_at <= ${now} and type = any(${handled}::text[])
          order by run_at, id limit 1 for update skip locked
        ), expired as (
          select id, run_at from jobs
          where state = 'running' and locked_until < ${now} and type = any(${handled}::text[])
          order by run_at, id limit 1 for update skip locked
        ), pick as (
          select id from (select * from pending union all select * from expired) c order by run_at, id limit 1
        )
        update jobs set state = 'running', locked_until = ${now}::bigint + ${leaseMs}::bigint, locked_by = ${lock},
          attempts = attempts + 1, updated_at = ${now}
        where id = (select id from pick)
        returning *`);
      return row;
    },
    async extend(id, lock, until) {
      return changed(sql`update jobs set locked_until = ${until} where ${held(id, lock)} returning id`);
    },
    async transition(id, lock, change, now) {
      return changed(sql`update jobs set ${transitionSql(change, now)} where ${held(id, lock)} returning id`);
    },
    async retry(id, now) {
      const [row] = await rows(sql`
        update jobs set state = 'pending', attempts = 0, run_at = ${now}, locked_until = null, locked_by = null,
          finished_at = null, updated_at = ${now}
        where id = ${id} and state in ('dead', 'pending') returning *`);
      return row;
    },
    async counts(now): Promise<JobCounts> {
      const [groups, backlog] = await Promise.all([
        db.execute(sql`select type, state, count(*) as n from jobs group by type, state
          order by type collate "C", state collate "C"`) as unknown as Promise<Raw[]>,
        db.execute(sql`select count(*) filter (where attempts > 0) as retrying,
            count(*) filter (where run_at <= ${now}) as ready,
            min(run_at) filter (where run_at <= ${now}) as oldest
          from jobs where state = 'pending'`) as unknown as Promise<Raw[]>,
      ]);
      const b = backlog[0] ?? {};
      return {
        byTypeAndState: groups.map((g) => ({
          type: g.type as string,
          state: g.state as JobState,
          n: num(g.n),
        })),
        retrying: num(b.retrying),
        ready: num(b.ready),
        oldestReadyAt: b.oldest === null || b.oldest === undefined ? null : num(b.oldest),
      };
    },
    async byId(id) {
      const [row] = await q().byId.execute({ id });
      return row as JobRow | undefined;
    },
    async list(filter, page) {
      const found = await db
        .select()
        .from(jobs)
        .where(filterOf(filter))
        .orderBy(desc(jobs.id))
        .limit(page.limit)
        .offset(page.offset);
      return found as JobRow[];
    },
    async count(filter) {
      const [row] = await db.select({ n: count() }).from(jobs).where(filterOf(filter));
      return row?.n ?? 0;
    },
    // A scan of the jobs table (no index on payloads), as on SQLite: it holds JOBS_RETENTION_DAYS of jobs, and
    // accounts are deleted rarely. Payloads are parsed only for jobs of `types` (the CASE keeps Postgres from
    // casting another job's payload first); a payload naming the user as a string does not match, as there.
    async deleteForUser(types, userId) {
      return (
        (await db.execute(sql`delete from jobs where state <> 'running'
          and (case when type = any(${sql.param([...types])}::text[]) then payload::jsonb -> 'userId' end)
            = to_jsonb(${userId}::bigint)
          returning id`)) as unknown as Raw[]
      ).length;
    },
  };
}
