/**
 * When the storage refuses writes (disk full, read-only, I/O errors): writes answer 503 with Retry-After in
 * the error envelope and change nothing, reads keep working, readiness reports the database as not writable
 * until a write commits again, failed WAL checkpoints raise an alarm (log + metric). Simulated in-process
 * with SQLite's own limits (`max_page_count` gives SQLITE_FULL, `query_only` SQLITE_READONLY), and for real
 * on a small tmpfs filled to the last byte when this runs as root with permission to mount.
 *
 * SQLite-only: these are SQLite's storage failures and WAL series (Postgres's full disk, read-only server and
 * lost connections map to the same 503s: tests/store/postgres.test.ts).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sqliteStorageFailure } from "../../src/infra/sqlite/errors.ts";
import type { SqliteStore } from "../../src/infra/sqlite/store.ts";
import { MIN_FREE_BYTES } from "../../src/infra/sqlite/write-health.ts";
import { count, createArticle, registerUser, type TestApp } from "../helpers/app.ts";
import { onlyOn, testEngine, testOnlyOn } from "../helpers/engine.ts";
import { fileApp, metric, scrape, tempDir } from "./helpers.ts";

const notWritable = { errors: { database: ["cannot store changes right now, try again later"] } };
const ready = { database: "ok", migrations: "ok", draining: "ok" };

/** An article body that needs fresh pages: it cannot fit in the database's free list. */
const bigArticle = (title: string) => ({
  article: { title, description: "d", body: "lorem ipsum ".repeat(8_000), tagList: [] },
});

async function expectWriteRefused(t: TestApp, token: string) {
  const before = await count(t, "articles");
  const res = await t.request("POST", "/api/articles", { token, body: bigArticle("Refused") });
  expect(res.status).toBe(503);
  expect(res.headers.get("retry-after")).toBe("30");
  expect(res.body).toEqual(notWritable);
  expect(await count(t, "articles")).toBe(before);
  // The connection is not left inside the failed transaction.
  expect(t.sqlite.inTransaction).toBe(false);
}

async function expectReadsWork(t: TestApp, slug: string) {
  const one = await t.request("GET", `/api/articles/${slug}`);
  expect(one.status).toBe(200);
  expect(one.body.article.slug).toBe(slug);
  const list = await t.request("GET", "/api/articles");
  expect(list.status).toBe(200);
  expect(list.body.articlesCount).toBeGreaterThan(0);
}

async function readiness(t: TestApp) {
  const res = await t.request("GET", "/health/ready");
  return { status: res.status, checks: res.body.checks };
}

onlyOn("sqlite")("classifying SQLite errors", () => {
  const err = (code: string, wrapped = false) => {
    const e = Object.assign(new Error("x"), { code });
    return wrapped ? new Error("Failed query", { cause: e }) : e;
  };
  test.each([
    ["SQLITE_FULL", "SQLITE_FULL"],
    ["SQLITE_IOERR_WRITE", "SQLITE_IOERR_WRITE"],
    ["SQLITE_IOERR", "SQLITE_IOERR"],
    ["SQLITE_READONLY_DBMOVED", "SQLITE_READONLY_DBMOVED"],
    ["SQLITE_CANTOPEN", "SQLITE_CANTOPEN"],
    ["SQLITE_BUSY", undefined],
    ["SQLITE_CONSTRAINT_UNIQUE", undefined],
    ["SQLITE_FULLISH", undefined],
  ])("%s → %p, also inside a wrapper's cause", (code, expected) => {
    expect(sqliteStorageFailure(err(code))).toBe(expected);
    expect(sqliteStorageFailure(err(code, true))).toBe(expected);
  });
});

testOnlyOn("sqlite")(
  "the checkpoint and WAL series exist from the start, so alerts on them see the first event",
  async () => {
    const { dir, cleanup } = tempDir("quire-series-");
    try {
      const t = await fileApp(dir);
      await registerUser(t);
      const text = await scrape(t);
      expect(metric(text, "quire_sqlite_checkpoint_failures_total")).toBe(0);
      expect(metric(text, "quire_sqlite_wal_bytes")).toBeGreaterThan(0);
      t.sqlite.close();
    } finally {
      cleanup();
    }
  },
);

onlyOn("sqlite")("database full (max_page_count reached)", () => {
  const { dir, cleanup } = tempDir("quire-full-");
  afterAll(cleanup);

  test("writes 503 + Retry-After and change nothing, reads work, readiness fails until there is room", async () => {
    const t = await fileApp(dir);
    const user = await registerUser(t);
    const article = await createArticle(t, user.token);
    const { pages } = t.sqlite
      .query<{ pages: number }, []>("SELECT page_count AS pages FROM pragma_page_count()")
      .get()!;
    t.sqlite.run(`PRAGMA max_page_count = ${pages}`);

    await expectWriteRefused(t, user.token);
    await expectReadsWork(t, article.slug);
    expect(await readiness(t)).toEqual({ status: 503, checks: { ...ready, database: "failed" } });

    // A little room is not enough: the next large write would fail again.
    t.sqlite.run(`PRAGMA max_page_count = ${pages + 4}`);
    expect((await readiness(t)).status).toBe(503);

    t.sqlite.run(`PRAGMA max_page_count = ${pages + (2 * MIN_FREE_BYTES) / 4096}`);
    expect(await readiness(t)).toEqual({ status: 200, checks: ready });
    const res = await t.request("POST", "/api/articles", { token: user.token, body: bigArticle("Accepted") });
    expect(res.status).toBe(201);
    t.sqlite.close();
  });
});

onlyOn("sqlite")("database read-only", () => {
  const { dir, cleanup } = tempDir("quire-ro-");
  afterAll(cleanup);

  test("writes 503 (SQLITE_READONLY), reads work, readiness fails, and recovers", async () => {
    const t = await fileApp(dir, { LOG_LEVEL: "error" });
    const user = await registerUser(t);
    const article = await createArticle(t, user.token);
    t.sqlite.run("PRAGMA query_only = ON");

    await expectWriteRefused(t, user.token);
    const reg = await t.request("POST", "/api/users", {
      body: { user: { username: "late", email: "late@example.com", password: "correct horse battery" } },
    });
    expect(reg.status).toBe(503);
    expect(reg.body).toEqual(notWritable);
    await expectReadsWork(t, article.slug);
    expect(await readiness(t)).toEqual({ status: 503, checks: { ...ready, database: "failed" } });
    // Logged as what it is, without the request's content.
    const line = t.logs.map((l) => JSON.parse(l)).find((l) => l.msg === "database not writable");
    expect(line).toMatchObject({ level: "error", code: "SQLITE_READONLY", method: "POST" });

    t.sqlite.run("PRAGMA query_only = OFF");
    expect(await readiness(t)).toEqual({ status: 200, checks: ready });
    t.sqlite.close();
  });
});

/** Mount a tmpfs of `size` at a fresh directory; undefined (and why) when this process may not. */
function mountTmpfs(size: string): { dir: string; unmount: () => void } | { reason: string } {
  if (process.getuid?.() !== 0) return { reason: "not root" };
  const dir = mkdtempSync(join(tmpdir(), "quire-tmpfs-"));
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "quire-test", dir], {
    encoding: "utf8",
  });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { reason: (r.stderr || r.error?.message || "mount failed").trim().split("\n")[0]! };
  }
  return {
    dir,
    unmount: () => {
      spawnSync("umount", ["-l", dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Write zeros until the filesystem refuses (ENOSPC). */
function fill(path: string): void {
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    closeSync(fd);
  }
  // The last bytes of a page that did not fit as a whole chunk.
  const tail = openSync(path, "a");
  try {
    for (;;) writeSync(tail, Buffer.alloc(512));
  } catch {
    // full
  } finally {
    closeSync(tail);
  }
}

const tmpfs = testEngine === "sqlite" ? mountTmpfs("24m") : { reason: "SQLite's file only" };
if ("reason" in tmpfs && testEngine === "sqlite")
  console.log(`skip: real disk-full test needs root allowed to mount a tmpfs (${tmpfs.reason})`);
afterAll(async () => {
  if ("unmount" in tmpfs) tmpfs.unmount();
});

describe.skipIf("reason" in tmpfs)("disk really full (a 24 MB tmpfs filled up)", () => {
  test("503 + Retry-After, reads work, checkpoints alarm, readiness fails, all recover when space returns", async () => {
    const dir = (tmpfs as { dir: string }).dir;
    const t = await fileApp(dir, { LOG_LEVEL: "info" });
    const user = await registerUser(t);
    const article = await createArticle(t, user.token);
    // Committed but not checkpointed yet: the checkpoint must grow the database file, which a full disk refuses.
    await createArticle(t, user.token, bigArticle("Waiting in the WAL").article);
    fill(join(dir, "filler"));

    await expectWriteRefused(t, user.token);
    await expectReadsWork(t, article.slug);
    expect(await readiness(t)).toEqual({ status: 503, checks: { ...ready, database: "failed" } });

    const checkpointer = (t.ctx.store as SqliteStore).startCheckpoints(10);
    for (let i = 0; i < 200 && checkpointer.stats().failures < 5; i++) await Bun.sleep(10);
    expect(checkpointer.stats().failures).toBeGreaterThanOrEqual(5);
    const metrics = await scrape(t);
    expect(metric(metrics, "quire_sqlite_checkpoint_failures_total")).toBeGreaterThanOrEqual(5);
    expect(metric(metrics, "quire_sqlite_wal_bytes")).toBeGreaterThan(200_000);
    const alarms = () =>
      t.logs.map((l) => JSON.parse(l)).filter((l) => l.msg?.startsWith("WAL checkpoints failing"));
    // One alarm for the whole streak, not one per attempt.
    expect(alarms()).toHaveLength(1);
    expect(alarms()[0]).toMatchObject({ level: "error", code: "SQLITE_FULL", consecutiveFailures: 1 });

    rmSync(join(dir, "filler"));
    for (let i = 0; i < 200 && checkpointer.stats().failing > 0; i++) await Bun.sleep(10);
    expect(checkpointer.stats().failing).toBe(0);
    expect(t.logs.some((l) => JSON.parse(l).msg === "WAL checkpoints succeed again")).toBe(true);
    expect(await readiness(t)).toEqual({ status: 200, checks: ready });
    const res = await t.request("POST", "/api/articles", { token: user.token, body: bigArticle("After") });
    expect(res.status).toBe(201);
    await t.ctx.store.close();
  });
});
