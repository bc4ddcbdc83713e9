/** Request and response schemas of the jobs admin API. */
import { t } from "elysia";
import { component } from "../../http/docs.ts";
import { Pagination } from "../../http/model.ts";

/** Spelled out (not mapped from jobStates) so the union keeps its literal types. */
const State = t.Union([t.Literal("pending"), t.Literal("running"), t.Literal("done"), t.Literal("dead")]);

export const JobView = component(
  "Job",
  t.Object(
    {
      id: t.Integer(),
      type: t.String(),
      state: State,
      attempts: t.Integer(),
      maxAttempts: t.Integer(),
      runAt: t.String({ format: "date-time" }),
      lockedUntil: t.Nullable(t.String({ format: "date-time" })),
      lockedBy: t.Nullable(t.String({ description: "The worker running it" })),
      uniqueKey: t.Nullable(t.String()),
      lastError: t.Nullable(t.String()),
      createdAt: t.String({ format: "date-time" }),
      updatedAt: t.String({ format: "date-time" }),
      finishedAt: t.Nullable(t.String({ format: "date-time" })),
    },
    { description: "A background job, without its payload (which may hold personal data)" },
  ),
);

const deadJob = {
  id: 7,
  type: "webhook.deliver",
  state: "dead" as const,
  attempts: 8,
  maxAttempts: 8,
  runAt: "2026-02-18T06:12:40.000Z",
  lockedUntil: null,
  lockedBy: null,
  uniqueKey: null,
  lastError: "HTTP 503",
  createdAt: "2026-02-17T21:40:02.118Z",
  updatedAt: "2026-02-18T06:12:41.530Z",
  finishedAt: "2026-02-18T06:12:41.530Z",
};

export const JobEnvelope = t.Object(
  { job: JobView },
  {
    description: "The job, due again now",
    examples: [
      {
        job: {
          ...deadJob,
          state: "pending",
          attempts: 0,
          runAt: "2026-02-18T09:00:00.000Z",
          updatedAt: "2026-02-18T09:00:00.000Z",
          finishedAt: null,
        },
      },
    ],
  },
);
export const JobList = t.Object(
  { jobs: t.Array(JobView), jobsCount: t.Integer() },
  {
    description: "A page of jobs and the total that match",
    examples: [
      {
        jobs: [
          {
            ...deadJob,
            id: 9,
            type: "mail.welcome",
            state: "done",
            attempts: 1,
            maxAttempts: 5,
            uniqueKey: "mail.welcome:42",
            lastError: null,
          },
          deadJob,
        ],
        jobsCount: 2,
      },
    ],
  },
);

export const JobListQuery = t.Object({
  state: t.Optional(State),
  type: t.Optional(t.String({ minLength: 1, maxLength: 64 })),
  ...Pagination,
});

export const JobParams = t.Object({ id: t.String({ pattern: "^[1-9][0-9]{0,14}$", description: "Job id" }) });

const Counts = t.Record(t.String(), t.Integer());
export const JobStats = t.Object(
  {
    pending: t.Integer(),
    running: t.Integer(),
    done: t.Integer(),
    dead: t.Integer(),
    retrying: t.Integer({ description: "Pending jobs that failed at least once" }),
    ready: t.Integer({ description: "Pending jobs already due: the backlog" }),
    oldestReadyAgeMs: t.Integer({ description: "How long the oldest due job has waited" }),
    byType: t.Record(t.String(), Counts, { description: "Jobs by type, then by state" }),
    processed: t.Object(
      { completed: t.Integer(), failed: t.Integer(), dead: t.Integer() },
      { description: "Runs this process finished since it started" },
    ),
  },
  {
    description: "Queue figures",
    examples: [
      {
        pending: 3,
        running: 1,
        done: 1204,
        dead: 1,
        retrying: 2,
        ready: 1,
        oldestReadyAgeMs: 850,
        byType: {
          "mail.welcome": { done: 311 },
          "webhook.deliver": { pending: 3, running: 1, done: 893, dead: 1 },
        },
        processed: { completed: 1204, failed: 9, dead: 1 },
      },
    ],
  },
);
