/**
 * Health probes, for a load balancer, an orchestrator or the container HEALTHCHECK:
 * - `GET /health/live`: the process answers (restart it if not). No I/O, always 200.
 * - `GET /health/ready`: send it traffic? 200 only if the database takes a write lock (not read-only, not
 *   locked by another process) and, after a write failed for lack of space or an unwritable file, commits a
 *   write again (src/db/write-health.ts); every embedded migration is applied; and the server is not
 *   draining for shutdown. Else 503 naming the failed check. Body: `{"status":"ok"|"unavailable","checks":{...}}`.
 * Both are unauthenticated and reveal nothing but those booleans.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Elysia, t } from "elysia";
import type { AppContext } from "../context.ts";
import { migrationsFolder } from "../db/migrate.ts";
import { noteWriteFailure, recoverWrites, writeFailure } from "../db/write-health.ts";
import { perOwner } from "../lib/memo.ts";
import { component, withExamples } from "../modules/shared/docs.ts";

/** How long the write-lock probe may wait: a probe must answer fast, not hang on a long writer. */
const PROBE_BUSY_TIMEOUT_MS = 250;

type Check = "ok" | "failed";
interface Readiness {
  draining: boolean;
  /** Once every migration is seen applied it stays so: migrations are never undone at run time. */
  migrated: boolean;
}

const readinessOf = perOwner((_ctx: AppContext): Readiness => ({ draining: false, migrated: false }));

/** Shutdown has begun: readiness answers 503 from now on. */
export function markDraining(ctx: AppContext): void {
  readinessOf(ctx).draining = true;
}

export function isDraining(ctx: AppContext): boolean {
  return readinessOf(ctx).draining;
}

/** Migrations the binary carries (drizzle-kit's journal, embedded with the SQL). */
export function expectedMigrations(folder = migrationsFolder): number {
  const journal = JSON.parse(readFileSync(join(folder, "meta", "_journal.json"), "utf8")) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

function appliedMigrations(ctx: AppContext): number {
  try {
    return (
      ctx.sqlite.query<{ n: number }, []>("SELECT count(*) AS n FROM __drizzle_migrations").get()?.n ?? 0
    );
  } catch {
    return 0; // no table: nothing applied
  }
}

/**
 * BEGIN IMMEDIATE takes the write lock without writing; ROLLBACK releases it. After a storage failure that
 * is not enough (a full disk grants the lock): then a real write must commit (src/db/write-health.ts).
 */
function databaseWritable(ctx: AppContext): boolean {
  const db = ctx.sqlite;
  if (db.inTransaction) return true; // another request holds it on this very connection: it is writable
  const previous = db.query<{ timeout: number }, []>("PRAGMA busy_timeout").get()?.timeout ?? 5000;
  try {
    db.run(`PRAGMA busy_timeout = ${PROBE_BUSY_TIMEOUT_MS}`);
    if (writeFailure(db) !== undefined) return recoverWrites(db);
    db.run("BEGIN IMMEDIATE");
    db.run("ROLLBACK");
    return true;
  } catch {
    return false;
  } finally {
    db.run(`PRAGMA busy_timeout = ${previous}`);
  }
}

export function readinessChecks(ctx: AppContext, expected: number): Record<string, Check> {
  const state = readinessOf(ctx);
  if (!state.migrated) state.migrated = appliedMigrations(ctx) >= expected;
  return {
    database: databaseWritable(ctx) ? "ok" : "failed",
    migrations: state.migrated ? "ok" : "failed",
    draining: state.draining ? "failed" : "ok",
  };
}

/**
 * Notes every request whose write failed for a storage reason, so readiness reports it. Observes only:
 * mount before the errors plugin, which answers such requests 503.
 */
export const writeFailureWatch = (ctx: AppContext) =>
  new Elysia({ name: "quire/write-failures" }).onError({ as: "global" }, ({ error }) => {
    noteWriteFailure(ctx.sqlite, error);
  });

const HealthBody = component(
  "Health",
  t.Object({
    status: t.Union([t.Literal("ok"), t.Literal("unavailable")]),
    checks: t.Optional(t.Record(t.String(), t.Union([t.Literal("ok"), t.Literal("failed")]))),
  }),
);
const ready = { status: "ok", checks: { database: "ok", migrations: "ok", draining: "ok" } };

export const healthRoutes = (ctx: AppContext) => {
  const expected = expectedMigrations();
  return new Elysia({ name: "quire/health", tags: ["Operations"] })
    .get(
      "/health/live",
      ({ set }) => {
        set.headers["cache-control"] = "no-store";
        return { status: "ok" as const };
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
      ({ set }) => {
        set.headers["cache-control"] = "no-store";
        const checks = readinessChecks(ctx, expected);
        const ok = Object.values(checks).every((c) => c === "ok");
        set.status = ok ? 200 : 503;
        return { status: ok ? ("ok" as const) : ("unavailable" as const), checks };
      },
      {
        response: {
          200: { ...withExamples(HealthBody, ready), description: "Ready for traffic" },
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
            "200 when the database takes a write lock, every migration is applied and the server is not shutting down; 503 otherwise, with the failed check in `checks`. No authentication; `Cache-Control: no-store`.",
        },
      },
    );
};
