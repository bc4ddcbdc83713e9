/**
 * Helpers for the operations tests: metrics parsing, temp directories, a test app with a data directory (on
 * SQLite a real file in it), and backups as the run's engine makes them (`.db` files; `.dump` archives of
 * pg_dump on Postgres, checked by restoring them into a scratch database).
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runPgTool, splitPassword } from "../../src/infra/postgres/dump.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { testEngine } from "../helpers/engine.ts";
import { testPostgres } from "../helpers/postgres.ts";
import { postgresTestDb, sqliteTestDb, type TestDb } from "../helpers/test-db.ts";

/** The value of one series in Prometheus text, e.g. `metric(text, "http_requests_total", {route: "/x"})`. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found[k!] = v!;
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** After-response hooks run in setImmediate: let them run before asserting on what they record. */
export const settle = () => new Promise((r) => setTimeout(r, 5));

export async function scrape(t: TestApp, headers: Record<string, string> = {}): Promise<string> {
  await settle();
  const res = await t.request("GET", "/metrics", { headers });
  if (res.status !== 200) throw new Error(`/metrics: ${res.status} ${res.text}`);
  return res.text;
}

export function tempDir(prefix = "quire-ops-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A test app with its own data directory; on SQLite its database is a file there (backups, locks and workers
 * need a real file), on Postgres a database of its own as usual.
 */
export async function fileApp(dir: string, overrides: Record<string, string> = {}): Promise<TestApp> {
  return await createTestApp({
    DATA_DIR: dir,
    ...(testEngine === "sqlite" && { DATABASE_URL: join(dir, "quire.db") }),
    ...overrides,
  });
}

/** The run's engine's backup file extension. */
export const backupExtension = testEngine === "sqlite" ? ".db" : ".dump";

/**
 * Why this run cannot make backups, or undefined. SQLite always can; Postgres needs pg_dump and pg_restore on
 * PATH, at least as new as the server (pg_dump refuses a newer server).
 */
export async function backupProblem(): Promise<string | undefined> {
  if (testEngine === "sqlite") return undefined;
  if (!Bun.which("pg_dump") || !Bun.which("pg_restore")) return "pg_dump/pg_restore are not on PATH";
  const pg = await testPostgres();
  const [row] = await pg!.admin`select current_setting('server_version_num')::int / 10000 as major`;
  const version = Bun.spawnSync(["pg_dump", "--version"]).stdout.toString();
  const client = Number(/(\d+)(\.\d+)?/.exec(version)?.[1] ?? 0);
  if (client < Number(row?.major))
    return `pg_dump ${client} cannot dump Postgres ${row?.major} (run the Postgres half against a server of pg_dump's version: TEST_DATABASE_URL)`;
  return undefined;
}

/**
 * Read a backup file with SQL, as the run's engine restores it: SQLite opens the file (after PRAGMA
 * integrity_check passes); Postgres restores the archive into an empty scratch database in one transaction
 * that stops at the first error (dropped afterwards). Throws if the backup does not read back whole.
 */
export async function withBackup<T>(file: string, read: (db: TestDb) => Promise<T>): Promise<T> {
  if (testEngine === "sqlite") {
    const db = new Database(file, { readonly: true });
    try {
      const integrity = db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").all();
      if (integrity.length !== 1 || integrity[0]!.integrity_check !== "ok")
        throw new Error(`${file} fails integrity_check: ${JSON.stringify(integrity)}`);
      return await read(sqliteTestDb(() => db));
    } finally {
      db.close();
    }
  }
  const pg = (await testPostgres())!;
  const scratch = await pg.emptyDatabase();
  const db = postgresTestDb(scratch.url);
  try {
    const args = ["--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges"];
    const target = `--dbname=${splitPassword(scratch.url).url}`;
    await runPgTool("pg_restore", [...args, target, file], scratch.url, "");
    return await read(db);
  } finally {
    await db.close();
    await pg.dropDatabase(scratch.name);
  }
}

/** What a backup file holds: that it reads back whole, and how many articles. */
export function inspectBackup(file: string): Promise<{ valid: boolean; articles: number }> {
  return withBackup(file, async (db) => ({
    valid: true,
    articles: (await db.get<{ n: number }>("SELECT count(*) AS n FROM articles"))!.n,
  }));
}
