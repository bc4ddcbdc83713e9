/** Request and response schemas of the jobs admin API. */
import { t } from "elysia";
import { Pagination } from "../shared/model.ts";

/** Spelled out (not mapped from jobStates) so the union keeps its literal types. */
const State = t.Union([t.Literal("pending"), t.Literal("running"), t.Literal("done"), t.Literal("dead")]);

export const JobView = t.Object({
  id: t.Integer(),
  type: t.String(),
  state: State,
  attempts: t.Integer(),
  maxAttempts: t.Integer(),
  runAt: t.String(),
  lockedUntil: t.Nullable(t.String()),
  lockedBy: t.Nullable(t.String()),
  uniqueKey: t.Nullable(t.String()),
  lastError: t.Nullable(t.String()),
  createdAt: t.String(),
  updatedAt: t.String(),
  finishedAt: t.Nullable(t.String()),
});

export const JobEnvelope = t.Object({ job: JobView });
export const JobList = t.Object({ jobs: t.Array(JobView), jobsCount: t.Integer() });

export const JobListQuery = t.Object({
  state: t.Optional(State),
  type: t.Optional(t.String({ minLength: 1, maxLength: 64 })),
  ...Pagination,
});

export const JobParams = t.Object({ id: t.String({ pattern: "^[1-9][0-9]{0,14}$" }) });

const Counts = t.Record(t.String(), t.Integer());
export const JobStats = t.Object({
  pending: t.Integer(),
  running: t.Integer(),
  done: t.Integer(),
  dead: t.Integer(),
  retrying: t.Integer({ description: "Pending jobs that failed at least once" }),
  ready: t.Integer({ description: "Pending jobs already due: the backlog" }),
  oldestReadyAgeMs: t.Integer({ description: "How long the oldest due job has waited" }),
  byType: t.Record(t.String(), Counts),
  processed: t.Object({ completed: t.Integer(), failed: t.Integer(), dead: t.Integer() }),
});
