/**
 * The job queue of a context and everything that runs on it. The queue is built (and handlers registered,
 * events subscribed) with the context, so every process that writes enqueues its outbox jobs; workers run
 * only where `startJobs` is called: `quire serve`, or a test that wants them.
 */
import type { Database } from "bun:sqlite";
import type { Config } from "../../config.ts";
import type { AppContext } from "../../context.ts";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import { JobQueue } from "../../lib/queue.ts";
import { setupMail } from "../mail/setup.ts";
import { setupSearch } from "../search/reindex.ts";
import { setupWebhooks } from "../webhooks/setup.ts";
import { setupHousekeeping } from "./housekeeping.ts";

export function createJobQueue(
  config: Readonly<Config>,
  sqlite: Database,
  clock: Clock,
  log: Logger,
): JobQueue {
  return new JobQueue({
    db: sqlite,
    clock,
    log: log.child({ component: "jobs" }),
    concurrency: config.JOBS_CONCURRENCY,
    pollIntervalMs: config.JOBS_POLL_INTERVAL_MS,
    leaseMs: config.JOBS_LEASE_MS,
    maxAttempts: config.JOBS_MAX_ATTEMPTS,
  });
}

/** Register every job handler and the event subscriptions that enqueue jobs. Called once per context. */
export function setupBackgroundWork(ctx: AppContext): void {
  setupMail(ctx);
  setupWebhooks(ctx);
  setupHousekeeping(ctx);
  setupSearch(ctx);
}

export function startJobs(ctx: AppContext): void {
  ctx.jobs.start();
  ctx.log.info({ concurrency: ctx.jobs.concurrency, workerId: ctx.jobs.workerId }, "job workers started");
}

/** For shutdown: finish or release running jobs within `deadlineMs` (JOBS_DRAIN_MS by default). */
export function stopJobs(
  ctx: AppContext,
  deadlineMs = ctx.config.JOBS_DRAIN_MS,
): Promise<{ released: number }> {
  return ctx.jobs.stop({ deadlineMs });
}
