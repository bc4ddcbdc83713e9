/** Liveness and readiness: each readiness check can fail on its own and is named in the 503 body. */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { markDraining } from "../../src/http/health.ts";
import { createTestApp } from "../helpers/app.ts";
import { testOnlyOn } from "../helpers/engine.ts";
import { fileApp, tempDir } from "./helpers.ts";

const allOk = { database: "ok", migrations: "ok", draining: "ok" };

describe("health", () => {
  test("live: 200 {status: ok}, not cached", async () => {
    const t = await createTestApp();
    const res = await t.request("GET", "/health/live");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  test("ready: 200 with every check ok", async () => {
    const t = await createTestApp();
    const res = await t.request("GET", "/health/ready");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok", checks: allOk });
  });

  test("draining: ready 503 naming it, live still 200", async () => {
    const t = await createTestApp();
    markDraining(t.ctx);
    const res = await t.request("GET", "/health/ready");
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: "unavailable", checks: { ...allOk, draining: "failed" } });
    expect((await t.request("GET", "/health/live")).status).toBe(200);
  });

  test("a migration missing: 503 naming migrations", async () => {
    const t = await createTestApp();
    expect((await t.ctx.engine.migrations()).expected).toBeGreaterThan(0);
    const table = t.engine === "sqlite" ? "__drizzle_migrations" : "drizzle.__drizzle_migrations";
    await t.db.run(`DELETE FROM ${table} WHERE created_at = (SELECT max(created_at) FROM ${table})`);
    const res = await t.request("GET", "/health/ready");
    expect(res.status).toBe(503);
    expect(res.body.checks).toEqual({ ...allOk, migrations: "failed" });
  });

  // SQLite-only: the write lock of a file (Postgres's probe: tests/store/postgres.test.ts).
  testOnlyOn("sqlite")(
    "database write-locked by another process: 503 naming database, then ok again",
    async () => {
      const { dir, cleanup } = tempDir();
      try {
        const t = await fileApp(dir);
        const other = new Database(join(dir, "quire.db"));
        other.run("BEGIN IMMEDIATE");
        const locked = await t.request("GET", "/health/ready");
        other.run("ROLLBACK");
        expect(locked.status).toBe(503);
        expect(locked.body.checks).toEqual({ ...allOk, database: "failed" });
        const freed = await t.request("GET", "/health/ready");
        expect(freed.status).toBe(200);
        // The probe restores the connection's own busy timeout.
        expect(t.sqlite.query<{ timeout: number }, []>("PRAGMA busy_timeout").get()!.timeout).toBe(5000);
        other.close();
        t.sqlite.close();
      } finally {
        cleanup();
      }
    },
  );

  test("documented under Operations in the OpenAPI document", async () => {
    const t = await createTestApp();
    const doc = (await t.request("GET", "/openapi/json")).body;
    for (const path of ["/health/live", "/health/ready", "/metrics"]) {
      expect(doc.paths[path].get.tags).toEqual(["Operations"]);
    }
  });
});
