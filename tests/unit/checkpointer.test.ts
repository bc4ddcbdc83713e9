/** Background WAL checkpoints: the WAL stays bounded without any commit checkpointing inline. */
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BACKSTOP_AUTOCHECKPOINT_PAGES, startCheckpointer } from "../../src/infra/sqlite/checkpointer.ts";
import { createLogger } from "../../src/lib/logger.ts";

const dir = mkdtempSync(join(tmpdir(), "quire-ckpt-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 40 batches of 250 rows of 1 KB (~10 MB in all), yielding between batches as a server does. */
async function write(db: Database) {
  db.run("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
  for (let batch = 0; batch < 40; batch++) {
    db.transaction(() => {
      for (let i = 0; i < 250; i++) insert.run("x".repeat(1000));
    })();
    await Bun.sleep(15);
  }
}

/** A logger whose records land in an array, parsed. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("info", { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

function open(name: string) {
  const file = join(dir, name);
  const db = new Database(file, { create: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = NORMAL");
  return { db, file };
}

test("the worker keeps the WAL small while the connection's own auto-checkpoint sits at the backstop", async () => {
  const { db, file } = open("with.db");
  const { log, lines } = capture();
  const checkpointer = startCheckpointer(db, file, 20, log, () => {});
  expect(db.query("PRAGMA wal_autocheckpoint").get()).toEqual({
    wal_autocheckpoint: BACKSTOP_AUTOCHECKPOINT_PAGES,
  });
  await write(db);
  // A last large transaction (~6 MB, 1,500 pages) leaves a long WAL behind once writes stop.
  db.transaction(() => {
    for (let i = 0; i < 6_000; i++) db.run("INSERT INTO t (v) VALUES (?)", ["y".repeat(1000)]);
  })();
  await Bun.sleep(100);
  // Idle again: back to one checkpoint per interval (20 ms), not a spin on a long but finished WAL.
  const before = checkpointer.stats().runs;
  await Bun.sleep(300);
  expect(checkpointer.stats().runs - before).toBeLessThan(30);
  const stats = checkpointer.stats();
  await checkpointer.stop();
  expect(lines).toEqual([]);
  expect(stats.runs).toBeGreaterThan(5);
  expect(statSync(`${file}-wal`).size).toBeLessThan(8 * 1024 * 1024);
  db.close();
});

test("control: with the backstop alone the same writes leave a WAL several times larger", async () => {
  const { db, file } = open("without.db");
  db.run(`PRAGMA wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  await write(db);
  expect(statSync(`${file}-wal`).size).toBeGreaterThan(8 * 1024 * 1024);
  db.close();
});

test("failing checkpoints are counted and alarm once per streak, not once per attempt", async () => {
  const { db } = open("alarm.db");
  // The worker's own connection opens a file that is not a database: every checkpoint fails (SQLITE_NOTADB).
  const junk = join(dir, "junk.db");
  writeFileSync(junk, "not a database ".repeat(512));
  const { log, lines } = capture();
  const checkpointer = startCheckpointer(db, junk, 5, log, () => {});
  for (let i = 0; i < 200 && checkpointer.stats().failures < 10; i++) await Bun.sleep(10);
  await checkpointer.stop();
  const stats = checkpointer.stats();
  expect(stats.failures).toBeGreaterThanOrEqual(10);
  expect(stats.failing).toBe(stats.failures);
  expect(stats.runs).toBe(0);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({
    level: "error",
    code: "SQLITE_NOTADB",
    consecutiveFailures: 1,
    msg: "WAL checkpoints failing: the WAL grows with every write until one succeeds",
  });
  db.close();
});
