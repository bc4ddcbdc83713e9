/**
 * Which engine this test run exercises: `TEST_ENGINE=sqlite` (the default) or `TEST_ENGINE=postgres`. The whole
 * suite is one set of tests run once per engine (the README's test line runs `bun test` twice), never a copy
 * per engine: test apps (./app.ts), the store contract suite (tests/store/engines.ts) and the processes the
 * end-to-end tests start (`testDatabaseUrl`) all follow it.
 *
 * A test that exercises something only one engine has (SQLite's WAL, checkpoints, VACUUM INTO, FTS5 plans;
 * Postgres's pool, advisory locks) says so with `onlyOn("sqlite")` and one line of why.
 */
import { describe, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Engine } from "../../src/store/store.ts";
import { testPostgres } from "./postgres.ts";

function parseEngine(value: string | undefined): Engine {
  if (value === undefined || value === "" || value === "sqlite") return "sqlite";
  if (value === "postgres") return "postgres";
  throw new Error(`TEST_ENGINE must be sqlite or postgres, got ${JSON.stringify(value)}`);
}

export const testEngine: Engine = parseEngine(process.env.TEST_ENGINE);

/** `describe` on one engine, skipped (and named as skipped) on the other. */
export const onlyOn = (engine: Engine) => (testEngine === engine ? describe : describe.skip);
/** `test` on one engine, skipped on the other. */
export const testOnlyOn = (engine: Engine) => (testEngine === engine ? test : test.skip);

/**
 * A DATABASE_URL of its own for a process a test starts (the binary, `quire serve`, the CLI): a file in a new
 * temporary directory on SQLite, a fresh migrated database on Postgres (dropped when the run ends).
 * `migrated: false` gives an empty Postgres database (on SQLite the file does not exist yet either way).
 */
export async function testDatabaseUrl(options: { migrated?: boolean; dir?: string } = {}): Promise<string> {
  if (testEngine === "sqlite") {
    return join(options.dir ?? mkdtempSync(join(tmpdir(), "quire-test-")), "quire.db");
  }
  const pg = await testPostgres();
  if (!pg) throw new Error("TEST_ENGINE=postgres but no Postgres could be started (see the line above)");
  const db = options.migrated === false ? await pg.emptyDatabase() : await pg.freshDatabase();
  return db.url;
}
