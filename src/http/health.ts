/**
 * Health probes, for a load balancer, an orchestrator or the container HEALTHCHECK:
 * - `GET /health/live`: the process answers (restart it if not). No I/O, always 200.
 * - `GET /health/ready`: send it traffic? 200 only if the database is readable and writable (the engine's
 *   probe: on SQLite, the write lock can be taken and, after a write failed for lack of space or an
 *   unwritable file, a write commits again: src/infra/sqlite/write-health.ts), every embedded migration is
 *   applied, and the server is not draining for shutdown; else 503 naming the failed check. Body: `{"status":"ok"|"unavailable","checks":{...}}`.
 *   On a cluster (REDIS_URL) it also reports `redis`: "ok", or "degraded" while Redis is unreachable or this
 *   node does not hear the others. Degraded is still 200 ("status":"degraded"): Redis is shared by every
 *   node, so a 503 would take the whole cluster out of the load balancer at once, while each node can still
 *   serve every request correctly from the database (caches bypassed, rate limits per node, realtime resets
 *   once Redis is back). Alert on it; do not route around it.
 * Both are unauthenticated and reveal nothing but those booleans.
 */
import { Elysia, t } from "elysia";
import type { AppContext } from "../context.ts";
import { CachedJson } from "../lib/cached-json.ts";
import { component, withExamples } from "./docs.ts";
import { reply } from "./etag.ts";

type Check = "ok" | "failed" | "degraded";

/** Shutdown has begun: readiness answers 503 from now on. */
export function markDraining(ctx: Pick<AppContext, "readiness">): void {
  ctx.readiness.draining = true;
}

export function isDraining(ctx: Pick<AppContext, "readiness">): boolean {
  return ctx.readiness.draining;
}

export async function readinessChecks(ctx: AppContext): Promise<Record<string, Check>> {
  const state = ctx.readiness;
  const [health, migrations] = await Promise.all([
    ctx.store.probe(),
    state.migrated ? undefined : ctx.engine.migrations(),
  ]);
  // Once every migration is seen applied it stays so: migrations are never undone at run time.
  if (migrations && migrations.applied >= migrations.expected) state.migrated = true;
  return {
    database: health.readable && health.writable ? "ok" : "failed",
    migrations: state.migrated ? "ok" : "failed",
    draining: ctx.readiness.draining ? "failed" : "ok",
    ...(ctx.cluster && { redis: ctx.cluster.state() }),
  };
}

const HealthBody = component(
  "Health",
  t.Object({
    status: t.Union([t.Literal("ok"), t.Literal("degraded"), t.Literal("unavailable")]),
    checks: t.Optional(
      t.Record(t.String(), t.Union([t.Literal("ok"), t.Literal("failed"), t.Literal("degraded")])),
    ),
  }),
);
const ready = { status: "ok", checks: { database: "ok", migrations: "ok", draining: "ok" } };
/** The liveness answer never changes: serialized (and its ETag computed) once. */
const alive = CachedJson.of({ status: "ok" });

export const healthRoutes = (ctx: AppContext) => {
  return new Elysia({ name: "quire/health", tags: ["Operations"] })
    .get(
      "/health/live",
      // Written so Elysia does not take it for an asynchronous handler (see serializeGetBody in etag.ts).
      ({ request, set }) => {
        set.headers["cache-control"] = "no-store";
        const answer = reply<{ status: "ok" }>(request, set, alive);
        return answer;
      },
      {
        response: {
          200: { ...withExamples(HealthBody, { status: "ok" }), description: "The process is alive" },
        },
        detail: {
          summary: "Liveness",
          description:
            "200 while the process answers (restart it if not). No I/O, no authentication; `Cache-Control: no-store`.",
        },
      },
    )
    .get(
      "/health/ready",
      async ({ set }) => {
        set.headers["cache-control"] = "no-store";
        const checks = await readinessChecks(ctx);
        const failed = Object.values(checks).some((c) => c === "failed");
        const degraded = Object.values(checks).some((c) => c === "degraded");
        set.status = failed ? 503 : 200;
        const status = failed ? ("unavailable" as const) : degraded ? ("degraded" as const) : ("ok" as const);
        return { status, checks };
      },
      {
        response: {
          200: {
            ...withExamples(HealthBody, ready, {
              status: "degraded",
              checks: { ...ready.checks, redis: "degraded" },
            }),
            description:
              "Ready for traffic. On a cluster, `redis` is `degraded` (still 200) while Redis is unreachable: every request is still served correctly from the database",
          },
          503: {
            ...withExamples(HealthBody, {
              ...ready,
              status: "unavailable",
              checks: { ...ready.checks, draining: "failed" },
            }),
            description: "Not ready: the failed check is named in `checks`",
          },
        },
        detail: {
          summary: "Readiness",
          description:
            "200 when the database can take writes (on SQLite: the write lock is free and, after a write failed for lack of space or an unwritable file, a write commits again), every migration is applied and the server is not shutting down; 503 otherwise, with the failed check in `checks`. On a cluster (REDIS_URL), `checks.redis` is `ok`, or `degraded` while Redis is unreachable: still 200 with `status: degraded`, because every node would fail it at once while each can still serve correctly from the database. No authentication; `Cache-Control: no-store`.",
        },
      },
    );
};
