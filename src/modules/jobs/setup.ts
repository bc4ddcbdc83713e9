/**
 * What runs on the job queue. Handlers are registered with the context, so every process that writes can
 * enqueue outbox jobs; workers run only where `startJobs` is called: `quire serve`, or a test that wants
 * them. (The outbox listeners that enqueue are in src/listeners.ts.)
 */
import type { AppContext } from "../../context.ts";
import { setupMail } from "../mail/setup.ts";
import { setupSearch } from "../search/setup.ts";
import { setupWebhooks } from "../webhooks/setup.ts";
import { setupHousekeeping } from "./housekeeping.ts";

/** Register every job handler. Called once per context. */
export function registerJobHandlers(ctx: AppContext): void {
  setupMail(ctx);
  setupWebhooks(ctx);
  setupHousekeeping(ctx);
  setupSearch(ctx);
}

export async function startJobs(ctx: AppContext): Promise<void> {
  await ctx.jobs.start();
  ctx.log.info({ concurrency: ctx.jobs.concurrency, workerId: ctx.jobs.workerId }, "job workers started");
}

/** For shutdown: finish or release running jobs within `deadlineMs` (JOBS_DRAIN_MS by default). */
export function stopJobs(
  ctx: AppContext,
  deadlineMs = ctx.config.JOBS_DRAIN_MS,
): Promise<{ released: number }> {
  return ctx.jobs.stop({ deadlineMs });
}
