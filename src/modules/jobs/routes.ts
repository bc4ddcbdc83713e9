import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { clientOf } from "../../http/client-ip.ts";
import { security } from "../../http/docs.ts";
import { errorDoc } from "../../http/model.ts";
import { JobEnvelope, JobList, JobListQuery, JobParams, JobStats } from "./model.ts";
import { jobStats, listJobs, retryJob } from "./service.ts";

export const jobsRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/jobs", tags: ["Admin"] })
    .use(authPlugin(ctx))
    .get("/api/admin/jobs", ({ query }) => listJobs(ctx, query), {
      admin: true,
      query: JobListQuery,
      response: { 200: JobList },
      detail: {
        summary: "List background jobs",
        description:
          "Newest first; filter by `state` (pending, running, done, dead) and `type` (`mail.welcome`, `webhook.deliver`, `backup.scheduled` …). `limit` defaults to 20, capped at 100. Payloads are never shown: they may hold personal data.",
        security: security.admin,
      },
    })
    .get("/api/admin/jobs/stats", () => jobStats(ctx), {
      admin: true,
      response: { 200: JobStats },
      detail: {
        summary: "Queue depth and failures",
        description:
          "Jobs by state and by type, the backlog (due but not started) and the age of its oldest job, and the runs this process finished since it started. The same figures feed the `quire_jobs*` metrics.",
        security: security.admin,
      },
    })
    .post(
      "/api/admin/jobs/:id/retry",
      ({ params, viewer, request }) =>
        retryJob(ctx, Number(params.id), { id: viewer.id, ip: clientOf(request).ip }),
      {
        admin: true,
        params: JobParams,
        response: {
          200: JobEnvelope,
          404: errorDoc("No job has this id", { job: ["not found"] }),
          409: errorDoc(
            "The job is running or done: there is nothing to retry",
            { job: ["is running"] },
            { job: ["is done"] },
          ),
        },
        detail: {
          summary: "Retry a job",
          description:
            "A dead or pending job runs again now, with a fresh attempt budget (`attempts` back to 0). Audited.",
          security: security.admin,
        },
      },
    );
