import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { clientOf } from "../../http/client-ip.ts";
import { errors } from "../shared/model.ts";
import { JobEnvelope, JobList, JobListQuery, JobParams, JobStats } from "./model.ts";
import { jobStats, listJobs, retryJob } from "./service.ts";

const security = [{ Token: [] }];

export const jobsRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/jobs", tags: ["Admin"] })
    .use(authPlugin(ctx))
    .get("/api/admin/jobs", ({ query }) => listJobs(ctx, query), {
      admin: true,
      query: JobListQuery,
      response: { 200: JobList, ...errors(401, 403, 422) },
      detail: {
        summary: "List background jobs",
        description:
          "Newest first; filter by `state` (pending, running, done, dead) and `type`. No payloads.",
        security,
      },
    })
    .get("/api/admin/jobs/stats", () => jobStats(ctx), {
      admin: true,
      response: { 200: JobStats, ...errors(401, 403) },
      detail: { summary: "Queue depth and failures", security },
    })
    .post(
      "/api/admin/jobs/:id/retry",
      ({ params, viewer, request }) =>
        retryJob(ctx, Number(params.id), { id: viewer.id, ip: clientOf(request).ip }),
      {
        admin: true,
        params: JobParams,
        response: { 200: JobEnvelope, ...errors(401, 403, 404, 409, 422) },
        detail: {
          summary: "Retry a job",
          description:
            "A dead or pending job runs again now with a fresh attempt budget; running or done: 409.",
          security,
        },
      },
    );
