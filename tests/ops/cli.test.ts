/** The operations CLI in-process (`main(argv)` returns the exit code): backup, restore, healthcheck, help. */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/app.ts";
import { liveServeLock, lockPath } from "../../src/cli/lock.ts";
import { loadConfig } from "../../src/config.ts";
import { closeContext, createContext } from "../../src/context.ts";
import { markDraining } from "../../src/http/health.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { main } from "../../src/main.ts";
import { sqliteOf, TEST_SECRET } from "../helpers/app.ts";
import { tempDir } from "./helpers.ts";

const { dir: root, cleanup } = tempDir("quire-cli-");
afterAll(cleanup);
let n = 0;

/** A migrated database file with `articles` articles (one author), in a fresh directory. */
async function makeDatabase(articles: number): Promise<{ dir: string; db: string }> {
  const dir = join(root, `d${++n}`);
  const db = join(dir, "quire.db");
  const config = loadConfig({ NODE_ENV: "test", DATABASE_URL: db, DATA_DIR: dir, JWT_SECRET: TEST_SECRET });
  const ctx = await createContext(config, createLogger("silent"));
  sqliteOf(ctx).run("INSERT INTO users (email, username, password_hash) VALUES ('a@x.io', 'author', 'x')");
  for (let i = 0; i < articles; i++)
    sqliteOf(ctx).run(
      "INSERT INTO articles (slug, title, description, body, author_id) VALUES (?, ?, 'd', 'b', 1)",
      [`s-${i}`, `T ${i}`],
    );
  await closeContext(ctx);
  return { dir, db };
}

const count = (db: string) => {
  const d = new Database(db, { readonly: true });
  try {
    return d.query<{ n: number }, []>("SELECT count(*) AS n FROM articles").get()!.n;
  } finally {
    d.close();
  }
};

const cli = (...args: string[]) => main([...args, "--log-level", "silent"]);

describe("quire backup", () => {
  test("usage errors exit 2", async () => {
    expect(await cli("backup")).toBe(2);
    expect(await cli("backup", "a.db", "b.db")).toBe(2);
    expect(await cli("backup", "--no-such-flag")).toBe(2);
  });

  test("writes a verified copy (exit 0) and refuses to overwrite it (exit 1)", async () => {
    const { dir, db } = await makeDatabase(4);
    const out = join(dir, "copy.db");
    expect(await cli("backup", out, "--database", db)).toBe(0);
    expect(count(out)).toBe(4);
    expect(await cli("backup", out, "--database", db)).toBe(1);
    expect(count(out)).toBe(4);
  });

  test("a missing database is a failure (exit 1), and none is created", async () => {
    const db = join(root, "none", "quire.db");
    expect(await cli("backup", join(root, "x.db"), "--database", db)).toBe(1);
    expect(existsSync(db)).toBe(false);
  });
});

describe("quire restore", () => {
  test("usage errors exit 2; a missing backup exits 1", async () => {
    const { db } = await makeDatabase(0);
    expect(await cli("restore", "--database", db)).toBe(2);
    expect(await cli("restore", "a", "b", "--database", db)).toBe(2);
    expect(await cli("restore", join(root, "absent.db"), "--database", db)).toBe(1);
  });

  test("restores a backup: data swapped, previous kept, no stale -wal/-shm, integrity ok", async () => {
    const { dir, db } = await makeDatabase(2);
    const source = await makeDatabase(7);
    const backup = join(dir, "b.db");
    expect(await cli("backup", backup, "--database", source.db)).toBe(0);
    // A leftover WAL beside the current database must not be replayed into the restored one.
    const live = new Database(db);
    live.run("PRAGMA journal_mode = WAL");
    live.close();
    expect(await cli("restore", backup, "--database", db)).toBe(0);
    expect(count(db)).toBe(7);
    const names = readdirSync(dir);
    expect(names.filter((f) => f.startsWith("quire.db.pre-restore-") && !f.endsWith("-wal"))).toHaveLength(1);
    expect(names).not.toContain("quire.db-wal");
    expect(names).not.toContain("quire.db-shm");
    const check = new Database(db, { readonly: true });
    expect(check.query("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
    check.close();
  });

  test("refuses a corrupt file, a non-SQLite file and a foreign database; the database is untouched", async () => {
    const { dir, db } = await makeDatabase(3);
    const garbage = join(dir, "garbage.db");
    writeFileSync(garbage, "this is not a database at all, just some text ".repeat(200));
    const foreign = join(dir, "foreign.db");
    const f = new Database(foreign);
    f.run("CREATE TABLE t (x)");
    f.close();
    const corrupt = join(dir, "corrupt.db");
    expect(await cli("backup", corrupt, "--database", db)).toBe(0);
    const bytes = new Uint8Array(await Bun.file(corrupt).arrayBuffer());
    for (let i = 4096; i < bytes.length; i += 7) bytes[i] = 0xff; // trash every page after the header
    writeFileSync(corrupt, bytes);
    for (const bad of [garbage, foreign, corrupt])
      expect(await cli("restore", bad, "--database", db)).toBe(1);
    expect(count(db)).toBe(3);
    expect(readdirSync(dir).some((f) => f.includes("pre-restore"))).toBe(false);
  });

  test("refuses while another process holds the write lock", async () => {
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

  test("refuses while a live serve lock names the database; --force overrides", async () => {
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

  test("serve locks: a dead local pid or an old heartbeat is stale; a fresh remote one is live", async () => {
    const { db } = await makeDatabase(0);
    const dead = Bun.spawnSync(["true"]).pid;
    writeFileSync(lockPath(db), JSON.stringify({ pid: dead, hostname: hostname() }));
    expect(liveServeLock(db)).toBeUndefined();
    writeFileSync(lockPath(db), JSON.stringify({ pid: 1, hostname: "another-container" }));
    expect(liveServeLock(db)).toContain("another-container");
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockPath(db), old, old);
    expect(liveServeLock(db)).toBeUndefined();
  });
});

describe("quire healthcheck", () => {
  test("0 when ready, 1 when draining or unreachable, 2 on a bad flag", async () => {
    const { dir, db } = await makeDatabase(0);
    const config = loadConfig({ NODE_ENV: "test", DATABASE_URL: db, DATA_DIR: dir, JWT_SECRET: TEST_SECRET });
    const ctx = await createContext(config, createLogger("silent"));
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
