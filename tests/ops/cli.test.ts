/**
 * The operations CLI in-process (`main(argv)` returns the exit code): backup, restore, healthcheck, help. Backup
 * and restore run on the run's engine: SQLite files (VACUUM INTO, a file swap), or Postgres databases
 * (pg_dump/pg_restore; skipped in one line where those tools cannot serve the test server).
 */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { createApp } from "../../src/app.ts";
import { liveServeLock, lockPath } from "../../src/cli/lock.ts";
import { loadConfig } from "../../src/config.ts";
import { closeContext, createContext } from "../../src/context.ts";
import { markDraining } from "../../src/http/health.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { main } from "../../src/main.ts";
import { TEST_SECRET, testDbOf } from "../helpers/app.ts";
import { testDatabaseUrl, testEngine, testOnlyOn } from "../helpers/engine.ts";
import { testPostgres } from "../helpers/postgres.ts";
import { backupProblem, backupExtension as ext, inspectBackup, tempDir } from "./helpers.ts";

const { dir: root, cleanup } = tempDir("quire-cli-");
afterAll(cleanup);
let n = 0;

const problem = await backupProblem();
if (problem) console.warn(`backup and restore tests skipped on ${testEngine}: ${problem}`);
/** A test that runs `quire backup` or `quire restore`: skipped (with the line above) where they cannot. */
const backs = test.skipIf(problem !== undefined);

const configOf = (dir: string, db: string) =>
  loadConfig({ NODE_ENV: "test", DATABASE_URL: db, DATA_DIR: dir, JWT_SECRET: TEST_SECRET });

/** A migrated database with `articles` articles (one author), and a fresh directory for its files. */
async function makeDatabase(articles: number): Promise<{ dir: string; db: string }> {
  const dir = join(root, `d${++n}`);
  mkdirSync(dir);
  const db = await testDatabaseUrl({ dir });
  const ctx = await createContext(configOf(dir, db), createLogger("silent"));
  const sql = testDbOf(ctx);
  await sql.run("INSERT INTO users (email, username, password_hash) VALUES ('a@x.io', 'author', 'x')");
  for (let i = 0; i < articles; i++)
    await sql.run(
      "INSERT INTO articles (slug, title, description, body, author_id) VALUES (?, ?, 'd', 'b', 1)",
      `s-${i}`,
      `T ${i}`,
    );
  await sql.close();
  await closeContext(ctx);
  return { dir, db };
}

/** Articles in a database (a file, or a Postgres URL). */
async function count(db: string): Promise<number> {
  if (testEngine === "sqlite") {
    const d = new Database(db, { readonly: true });
    try {
      return d.query<{ n: number }, []>("SELECT count(*) AS n FROM articles").get()!.n;
    } finally {
      d.close();
    }
  }
  const sql = new SQL({ url: db, max: 1 });
  try {
    const [row] = await sql`select count(*)::int as n from articles`;
    return Number(row?.n);
  } finally {
    await sql.close();
  }
}

const cli = (...args: string[]) => main([...args, "--log-level", "silent"]);

describe("quire backup", () => {
  test("usage errors exit 2", async () => {
    expect(await cli("backup")).toBe(2);
    expect(await cli("backup", "a.db", "b.db")).toBe(2);
    expect(await cli("backup", "--no-such-flag")).toBe(2);
  });

  backs("writes a verified copy (exit 0) and refuses to overwrite it (exit 1)", async () => {
    const { dir, db } = await makeDatabase(4);
    const out = join(dir, `copy${ext}`);
    expect(await cli("backup", out, "--database", db)).toBe(0);
    expect(await inspectBackup(out)).toEqual({ valid: true, articles: 4 });
    expect(await cli("backup", out, "--database", db)).toBe(1);
    expect(await inspectBackup(out)).toEqual({ valid: true, articles: 4 });
  });

  backs("a missing database is a failure (exit 1), and none is created", async () => {
    const pg = testEngine === "postgres" ? await testPostgres() : undefined;
    const db = pg ? pg.urlOf(`quire_absent_${process.pid}`) : join(root, "none", "quire.db");
    expect(await cli("backup", join(root, `x${ext}`), "--database", db)).toBe(1);
    expect(existsSync(join(root, `x${ext}`))).toBe(false);
    if (pg) {
      const [row] =
        await pg.admin`select count(*)::int as n from pg_database where datname = ${`quire_absent_${process.pid}`}`;
      expect(row?.n).toBe(0);
    } else expect(existsSync(db)).toBe(false);
  });
});

describe("quire restore", () => {
  test("usage errors exit 2; a missing backup exits 1", async () => {
    const { db } = await makeDatabase(0);
    expect(await cli("restore", "--database", db)).toBe(2);
    expect(await cli("restore", "a", "b", "--database", db)).toBe(2);
    expect(await cli("restore", join(root, `absent${ext}`), "--database", db)).toBe(1);
  });

  backs("restores a backup: data swapped, the previous data kept beside it", async () => {
    const { dir, db } = await makeDatabase(2);
    const source = await makeDatabase(7);
    const backup = join(dir, `b${ext}`);
    expect(await cli("backup", backup, "--database", source.db)).toBe(0);
    expect(await cli("restore", backup, "--database", db, "--data-dir", dir)).toBe(0);
    expect(await count(db)).toBe(7);
    // SQLite keeps the old file as quire.db.pre-restore-<time>; Postgres a dump, pre-restore-<time>.dump.
    const kept = readdirSync(dir).filter((f) => f.includes("pre-restore-") && !f.endsWith("-wal"));
    expect(kept).toHaveLength(1);
    const previous = join(dir, kept[0]!);
    expect(testEngine === "sqlite" ? await count(previous) : (await inspectBackup(previous)).articles).toBe(
      2,
    );
  });

  testOnlyOn("sqlite")("a WAL left beside the database is not replayed into the restored one", async () => {
    const { dir, db } = await makeDatabase(2);
    const backup = join(dir, "b.db");
    expect(await cli("backup", backup, "--database", (await makeDatabase(7)).db)).toBe(0);
    const live = new Database(db);
    live.run("PRAGMA journal_mode = WAL");
    live.close();
    expect(await cli("restore", backup, "--database", db)).toBe(0);
    const names = readdirSync(dir);
    expect(names).not.toContain("quire.db-wal");
    expect(names).not.toContain("quire.db-shm");
    const check = new Database(db, { readonly: true });
    expect(check.query("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
    check.close();
  });

  backs("refuses garbage, a corrupt backup and a foreign database; the database is untouched", async () => {
    const { dir, db } = await makeDatabase(3);
    const garbage = join(dir, `garbage${ext}`);
    writeFileSync(garbage, "this is not a database at all, just some text ".repeat(200));
    const foreign = join(dir, `foreign${ext}`);
    if (testEngine === "sqlite") {
      const f = new Database(foreign);
      f.run("CREATE TABLE t (x)");
      f.close();
    } else {
      const pg = (await testPostgres())!;
      const other = await pg.emptyDatabase();
      const sql = new SQL({ url: other.url, max: 1 });
      await sql`create table t (x int)`;
      await sql.close();
      expect(await cli("backup", foreign, "--database", other.url)).toBe(0);
    }
    const corrupt = join(dir, `corrupt${ext}`);
    expect(await cli("backup", corrupt, "--database", db)).toBe(0);
    const bytes = new Uint8Array(await Bun.file(corrupt).arrayBuffer());
    // Past the header (SQLite: every page after the first; a pg_dump archive: its data after the table of
    // contents) every 7th byte is trashed.
    const from = testEngine === "sqlite" ? 4096 : Math.floor(bytes.length / 2);
    for (let i = from; i < bytes.length; i += 7) bytes[i] = 0xff;
    writeFileSync(corrupt, bytes);
    for (const bad of [garbage, foreign, corrupt])
      expect(await cli("restore", bad, "--database", db, "--data-dir", dir)).toBe(1);
    expect(await count(db)).toBe(3);
    expect(readdirSync(dir).some((f) => f.includes("pre-restore"))).toBe(false);
  });

  testOnlyOn("sqlite")("refuses while another process holds the write lock", async () => {
    const { dir, db } = await makeDatabase(1);
    const backup = join(dir, "b.db");
    expect(await cli("backup", backup, "--database", db)).toBe(0);
    const other = new Database(db);
    other.run("BEGIN IMMEDIATE");
    try {
      expect(await cli("restore", backup, "--database", db)).toBe(1);
    } finally {
      other.run("ROLLBACK");
      other.close();
    }
  });

  testOnlyOn("sqlite")("refuses while a live serve lock names the database; --force overrides", async () => {
    const { dir, db } = await makeDatabase(1);
    const backup = join(dir, "b.db");
    expect(await cli("backup", backup, "--database", db)).toBe(0);
    const sleeper = Bun.spawn(["sleep", "30"]);
    try {
      writeFileSync(lockPath(db), JSON.stringify({ pid: sleeper.pid, hostname: hostname() }));
      expect(liveServeLock(db)).toContain(`pid ${sleeper.pid}`);
      expect(await cli("restore", backup, "--database", db)).toBe(1);
      expect(await cli("restore", backup, "--database", db, "--force")).toBe(0);
    } finally {
      sleeper.kill();
    }
  });

  // Postgres has no serve lock: a server's pool shows in pg_stat_activity as application "quire".
  (testEngine === "postgres" ? backs : test.skip)(
    "refuses while a Quire process is connected to the database; --force overrides",
    async () => {
      const { dir, db } = await makeDatabase(1);
      const backup = join(dir, "b.dump");
      expect(await cli("backup", backup, "--database", db)).toBe(0);
      const ctx = await createContext(configOf(dir, db), createLogger("silent"));
      try {
        await ctx.store.read.users.byId(1); // a pool connection is open
        expect(await cli("restore", backup, "--database", db, "--data-dir", dir)).toBe(1);
        expect(readdirSync(dir).some((f) => f.includes("pre-restore"))).toBe(false);
        expect(await cli("restore", backup, "--database", db, "--data-dir", dir, "--force")).toBe(0);
      } finally {
        await closeContext(ctx);
      }
      expect(await count(db)).toBe(1);
    },
  );

  testOnlyOn("sqlite")(
    "serve locks: a dead local pid or an old heartbeat is stale; a fresh remote one is live",
    async () => {
      const { db } = await makeDatabase(0);
      const dead = Bun.spawnSync(["true"]).pid;
      writeFileSync(lockPath(db), JSON.stringify({ pid: dead, hostname: hostname() }));
      expect(liveServeLock(db)).toBeUndefined();
      writeFileSync(lockPath(db), JSON.stringify({ pid: 1, hostname: "another-container" }));
      expect(liveServeLock(db)).toContain("another-container");
      const old = new Date(Date.now() - 60_000);
      utimesSync(lockPath(db), old, old);
      expect(liveServeLock(db)).toBeUndefined();
    },
  );
});

describe("quire healthcheck", () => {
  test("0 when ready, 1 when draining or unreachable, 2 on a bad flag", async () => {
    const { dir, db } = await makeDatabase(0);
    const ctx = await createContext(configOf(dir, db), createLogger("silent"));
    const app = createApp(ctx).listen({ port: 0, hostname: "127.0.0.1" });
    const port = String(app.server!.port);
    try {
      expect(await main(["healthcheck", "--port", port])).toBe(0);
      markDraining(ctx);
      expect(await main(["healthcheck", "--port", port, "--host", "0.0.0.0"])).toBe(1);
    } finally {
      await app.stop();
      await closeContext(ctx);
    }
    expect(await main(["healthcheck", "--port", port, "--timeout-ms", "500"])).toBe(1);
    expect(await main(["healthcheck", "--port", "http"])).toBe(2);
  });
});

describe("help", () => {
  test.each([
    ["backup", "Usage: quire backup <file> [flags]"],
    ["restore", "--force"],
    ["healthcheck", "--timeout-ms"],
    ["serve", "--log-level"],
  ])("quire %s --help exits 0 and documents it", async (command, expected) => {
    const writes: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => writes.push(chunk) > 0) as typeof process.stdout.write;
    try {
      expect(await main([command, "--help"])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(writes.join("")).toContain(expected);
  });

  test("quire help lists every command", async () => {
    const writes: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => writes.push(chunk) > 0) as typeof process.stdout.write;
    try {
      expect(await main(["help"])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    for (const c of [
      "serve",
      "migrate",
      "backup",
      "restore",
      "admin",
      "healthcheck",
      "version",
      "SHUTDOWN_GRACE_MS",
    ])
      expect(writes.join("")).toContain(c);
  });
});
