/**
 * What /metrics says before anything happened: every labelled counter whose label values are known starts
 * at 0 (so `increase(…) > 0` alerts see the first event), the last-backup time survives a restart (read
 * from the backups on disk), and quire_build_info names the build.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { createTestApp, registerUser } from "../helpers/app.ts";
import { fileApp, metric, scrape, tempDir } from "./helpers.ts";

describe("labelled counters start at 0", () => {
  test("SQLITE_BUSY, rate-limit policies and backup outcomes have a 0 series on the first scrape", async () => {
    const t = await createTestApp();
    const text = await scrape(t);
    expect(metric(text, "quire_sqlite_busy_total", { source: "http" })).toBe(0);
    for (const policy of ["ip", "user", "login", "register", "refresh"])
      expect(metric(text, "quire_rate_limit_rejections_total", { policy })).toBe(0);
    expect(metric(text, "quire_backups_total", { outcome: "ok" })).toBe(0);
    expect(metric(text, "quire_backups_total", { outcome: "failed" })).toBe(0);
  });

  test("the first event is then an increase from 0 to 1", async () => {
    const t = await createTestApp({ RATE_LIMIT_ENABLED: "true", RATE_LIMIT_AUTH_PER_MINUTE: "1" });
    const user = await registerUser(t);
    const before = await scrape(t);
    expect(metric(before, "quire_rate_limit_rejections_total", { policy: "login" })).toBe(0);
    const body = { user: { email: user.email, password: "wrong-password" } };
    expect((await t.request("POST", "/api/users/login", { body })).status).toBe(401);
    expect((await t.request("POST", "/api/users/login", { body })).status).toBe(429);
    const after = await scrape(t);
    expect(metric(after, "quire_rate_limit_rejections_total", { policy: "login" })).toBe(1);
    expect(metric(after, "quire_rate_limit_rejections_total", { policy: "ip" })).toBe(0);
  });
});

describe("quire_backup_last_success_timestamp_seconds", () => {
  test("starts from the newest backup in DATA_DIR/backups, not 0", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const backups = join(dir, "backups");
      mkdirSync(backups);
      const files = [
        ["scheduled-2026-01-01T00-00-00-000Z.db", Date.UTC(2026, 0, 1, 0, 0, 3)],
        ["manual-2026-01-02T10-00-00-000Z.db", Date.UTC(2026, 0, 2, 10, 0, 5)],
        ["scheduled-2025-12-31T00-00-00-000Z.db", Date.UTC(2025, 11, 31, 0, 0, 4)],
      ] as const;
      for (const [name, finished] of files) {
        writeFileSync(join(backups, name), "x");
        utimesSync(join(backups, name), new Date(finished), new Date(finished));
      }
      // Files the server did not make are not its backups.
      writeFileSync(join(backups, "notes.db"), "x");
      const t = await fileApp(dir);
      const text = await scrape(t);
      expect(metric(text, "quire_backup_last_success_timestamp_seconds")).toBe(
        Date.UTC(2026, 0, 2, 10, 0, 5) / 1000,
      );
      await t.close();
    } finally {
      cleanup();
    }
  });

  test("0 when there is none", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const t = await fileApp(dir);
      expect(metric(await scrape(t), "quire_backup_last_success_timestamp_seconds")).toBe(0);
      await t.close();
    } finally {
      cleanup();
    }
  });
});

test("quire_build_info names the version, Bun, the engine and platform", async () => {
  const t = await createTestApp();
  const text = await scrape(t);
  const line = text.split("\n").find((l) => l.startsWith("quire_build_info{"));
  expect(line).toBeDefined();
  expect(
    metric(text, "quire_build_info", {
      version: pkg.version,
      bun: Bun.version,
      platform: `${process.platform}-${process.arch}`,
    }),
  ).toBe(1);
  // The engine and its version: which database this node runs on.
  expect(line).toMatch(new RegExp(`engine="${t.engine} \\d+\\.\\d+(\\.\\d+)?"`));
  expect(text).toContain("# TYPE quire_build_info gauge");
});
