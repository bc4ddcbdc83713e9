/** Online backups: the service, the admin API, scheduling and pruning. */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BACKUP_JOB, MAX_MANUAL_BACKUPS, scheduleBackups } from "../../src/modules/backups/run.ts";
import {
  BackupExists,
  backupDatabase,
  backupName,
  listBackups,
  pruneBackups,
} from "../../src/modules/backups/service.ts";
import { count, createArticle, createTestApp, registerUser, setRole } from "../helpers/app.ts";
import { testEngine, testOnlyOn } from "../helpers/engine.ts";
import {
  backupExtension,
  backupProblem,
  fileApp,
  inspectBackup,
  metric,
  scrape,
  tempDir,
} from "./helpers.ts";

const problem = await backupProblem();
if (problem) console.warn(`backup tests skipped on ${testEngine}: ${problem}`);
/** A test that makes a backup: skipped (with the line above) where this run's engine cannot. */
const backs = test.skipIf(problem !== undefined);
const ext = backupExtension.replace(".", "\\.");

describe("backupDatabase", () => {
  backs("copies the database while serving: consistent, owner-only, no temp file left", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const t = await fileApp(dir);
      const user = await registerUser(t);
      for (let i = 0; i < 3; i++) await createArticle(t, user.token);
      const file = join(dir, "out", `copy${backupExtension}`);
      const size = await backupDatabase(t.ctx, file);
      expect(size).toBe(statSync(file).size);
      expect(await inspectBackup(file)).toEqual({ valid: true, articles: 3 });
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readdirSync(join(dir, "out"))).toEqual([`copy${backupExtension}`]);
      await t.close();
    } finally {
      cleanup();
    }
  });

  test("refuses to overwrite an existing file, which is left untouched", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const t = await fileApp(dir);
      const file = join(dir, "taken.db");
      writeFileSync(file, "precious");
      await expect(backupDatabase(t.ctx, file)).rejects.toBeInstanceOf(BackupExists);
      expect(await Bun.file(file).text()).toBe("precious");
      expect(readdirSync(dir).filter((n) => n.includes("partial"))).toEqual([]);
      await t.close();
    } finally {
      cleanup();
    }
  });

  backs("is consistent while writes keep coming", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const t = await fileApp(dir);
      const user = await registerUser(t);
      for (let i = 0; i < 50; i++) await createArticle(t, user.token, { body: "x".repeat(2_000) });
      let writing = true;
      let written = 0;
      const writer = (async () => {
        while (writing) {
          await createArticle(t, user.token);
          written++;
          // In-process requests can complete in microtasks alone; let the backup worker's reply through,
          // as a socket server's event loop would.
          await Bun.sleep(0);
        }
      })();
      const before = 50 + written;
      await backupDatabase(t.ctx, join(dir, `under-load${backupExtension}`));
      const after = 50 + written;
      writing = false;
      await writer;
      const copy = await inspectBackup(join(dir, `under-load${backupExtension}`));
      expect(copy.valid).toBe(true);
      // A snapshot taken somewhere between the two counts (each write is one transaction).
      expect(copy.articles).toBeGreaterThanOrEqual(before);
      expect(copy.articles).toBeLessThanOrEqual(after);
      expect(written).toBeGreaterThan(0); // the server kept writing during the copy
      await t.close();
    } finally {
      cleanup();
    }
  });

  testOnlyOn("sqlite")(":memory: databases are copied on their own connection", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const t = await createTestApp();
      const user = await registerUser(t);
      await createArticle(t, user.token);
      await backupDatabase(t.ctx, join(dir, "mem.db"));
      expect(await inspectBackup(join(dir, "mem.db"))).toEqual({ valid: true, articles: 1 });
    } finally {
      cleanup();
    }
  });
});

describe("POST/GET /api/admin/backups", () => {
  const setup = async (dir: string) => {
    const t = await fileApp(dir);
    const admin = await registerUser(t);
    await setRole(t, admin.id, "admin");
    const editor = await registerUser(t);
    return { t, admin, editor };
  };

  test("no token 401, not an admin 403, and nothing written", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const { t, editor } = await setup(dir);
      for (const method of ["POST", "GET"]) {
        expect((await t.request(method, "/api/admin/backups")).status).toBe(401);
        const res = await t.request(method, "/api/admin/backups", { token: editor.token });
        expect(res.status).toBe(403);
        expect(res.body).toEqual({ errors: { admin: ["forbidden"] } });
      }
      expect(existsSync(join(dir, "backups"))).toBe(false);
      await t.close();
    } finally {
      cleanup();
    }
  });

  backs("an admin backs up into DATA_DIR/backups and lists it; metrics count it", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const { t, admin } = await setup(dir);
      await createArticle(t, admin.token);
      const res = await t.request("POST", "/api/admin/backups", { token: admin.token });
      expect(res.status).toBe(201);
      const { name, size, createdAt } = res.body.backup;
      expect(name).toMatch(new RegExp(`^manual-\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}-\\d{3}Z${ext}$`));
      const file = join(dir, "backups", name);
      expect(statSync(file).size).toBe(size);
      expect(Date.parse(createdAt)).toBe(t.clock.now());
      expect(await inspectBackup(file)).toEqual({ valid: true, articles: 1 });
      expect(statSync(join(dir, "backups")).mode & 0o777).toBe(0o700);

      const list = await t.request("GET", "/api/admin/backups", { token: admin.token });
      expect(list.status).toBe(200);
      expect(list.body).toEqual({
        backups: [{ name, size, createdAt: expect.any(String) }],
        backupsCount: 1,
      });
      const text = await scrape(t);
      expect(metric(text, "quire_backups_total", { outcome: "ok" })).toBe(1);
      expect(metric(text, "quire_backup_last_success_timestamp_seconds")).toBeGreaterThan(0);
      await t.close();
    } finally {
      cleanup();
    }
  });

  backs("manual backups are audited and capped: past the cap, 409 and nothing written", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const { t, admin } = await setup(dir);
      const res = await t.request("POST", "/api/admin/backups", { token: admin.token });
      expect(res.status).toBe(201);
      expect(await count(t, "audit_log where action = 'backup.created'")).toBe(1);
      // Fill up to the cap with files named like manual backups.
      const backups = join(dir, "backups");
      for (let i = 1; i < MAX_MANUAL_BACKUPS; i++) {
        writeFileSync(
          join(backups, `manual-2020-01-01T00-00-${String(i).padStart(2, "0")}-000Z${backupExtension}`),
          "x",
        );
      }
      const before = readdirSync(backups).length;
      const refused = await t.request("POST", "/api/admin/backups", { token: admin.token });
      expect(refused.status).toBe(409);
      expect(refused.body.errors.backup[0]).toContain(`${MAX_MANUAL_BACKUPS} manual backups`);
      expect(readdirSync(backups).length).toBe(before);
      await t.close();
    } finally {
      cleanup();
    }
  });

  backs("one at a time: a second request while one runs gets 409", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const { t, admin } = await setup(dir);
      t.clock.advance(1);
      const [a, b] = await Promise.all([
        t.request("POST", "/api/admin/backups", { token: admin.token }),
        t.request("POST", "/api/admin/backups", { token: admin.token }),
      ]);
      expect([a.status, b.status].sort()).toEqual([201, 409]);
      expect([a, b].find((r) => r.status === 409)!.body).toEqual({
        errors: { backup: ["another backup is running; try again shortly"] },
      });
      expect(readdirSync(join(dir, "backups"))).toHaveLength(1);
      await t.close();
    } finally {
      cleanup();
    }
  });
});

describe("scheduled backups", () => {
  backs("the recurring job writes scheduled backups and keeps the newest BACKUP_KEEP", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const t = await fileApp(dir, { BACKUP_INTERVAL_MINUTES: "60", BACKUP_KEEP: "2" });
      const backups = join(dir, "backups");
      mkdirSync(backups);
      // Older scheduled backups and a manual one, which pruning must leave alone.
      for (const [kind, at] of [
        ["scheduled", 1],
        ["scheduled", 2],
        ["manual", 0],
      ] as const)
        writeFileSync(join(backups, backupName(kind, Date.UTC(2020, 0, at), backupExtension)), "old");
      writeFileSync(join(backups, "notes.txt"), "operator's file");
      scheduleBackups(t.ctx);
      await t.ctx.jobs.scheduleRecurring();
      expect(await t.ctx.jobs.runDue()).toBeGreaterThanOrEqual(1); // with the housekeeping jobs
      const names = readdirSync(backups).sort();
      const fresh = backupName("scheduled", t.clock.now(), backupExtension);
      expect(names).toEqual(
        [
          backupName("manual", Date.UTC(2020, 0, 0), backupExtension),
          "notes.txt",
          backupName("scheduled", Date.UTC(2020, 0, 2), backupExtension),
          fresh,
        ].sort(),
      );
      expect((await inspectBackup(join(backups, fresh))).valid).toBe(true);
      const job = await t.db.get<{ state: string }>("SELECT state FROM jobs WHERE type = ?", BACKUP_JOB);
      expect(job?.state).toBe("pending"); // rescheduled for the next interval
      await t.close();
    } finally {
      cleanup();
    }
  });

  test("BACKUP_INTERVAL_MINUTES=0 schedules nothing", async () => {
    const t = await createTestApp();
    scheduleBackups(t.ctx);
    await t.ctx.jobs.scheduleRecurring();
    expect(await t.db.get("SELECT 1 FROM jobs WHERE type = ?", BACKUP_JOB)).toBeNull();
  });

  test("listBackups sorts newest first; pruneBackups removes only old scheduled ones", async () => {
    const { dir, cleanup } = tempDir();
    try {
      for (const at of [3, 1, 2])
        writeFileSync(join(dir, backupName("scheduled", Date.UTC(2021, 0, at))), "x");
      expect(listBackups(dir).map((b) => b.name)).toEqual(
        [3, 2, 1].map((at) => backupName("scheduled", Date.UTC(2021, 0, at))),
      );
      expect(pruneBackups(dir, 1)).toEqual(
        [2, 1].map((at) => backupName("scheduled", Date.UTC(2021, 0, at))),
      );
      expect(listBackups(join(dir, "missing"))).toEqual([]);
    } finally {
      cleanup();
    }
  });
});
