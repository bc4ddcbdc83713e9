/**
 * The WAL stays bounded under sustained writes. Anything that keeps a read snapshot open on the connection
 * (a RETURNING statement left un-reset by `.get()`, as seen with earlier drivers: 77 MB of WAL after 5,000
 * inserts instead of ~4 MB; a forgotten transaction) stops SQLite's automatic checkpoints. Every write path
 * here runs through the API on a file database, and the WAL must not outgrow a few checkpoints' worth.
 * (A reader holding a snapshot during this test makes it fail with ~140 MB: checked by hand.)
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addComment, count, createArticle, createTestApp, favorite, registerUser } from "../helpers/app.ts";
import { onlyOn } from "../helpers/engine.ts";

const dir = mkdtempSync(join(tmpdir(), "quire-wal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// SQLite-only: the write-ahead log is SQLite's.
onlyOn("sqlite")("the WAL", () => {
  test("5,000 writes through every RETURNING path leave the WAL bounded", async () => {
    const file = join(dir, "quire.db");
    const t = await createTestApp({ DATABASE_URL: file });
    const users = await Promise.all(Array.from({ length: 10 }, () => registerUser(t)));
    let writes = 0;
    for (let i = 0; writes < 5_000; i++) {
      const author = users[i % users.length]!;
      const article = await createArticle(t, author.token, { title: `Post ${i}`, tagList: [`t${i % 7}`] });
      await addComment(t, users[(i + 1) % users.length]!.token, article.slug, "x".repeat(200));
      await favorite(t, users[(i + 2) % users.length]!.token, article.slug);
      writes += 3;
    }
    expect(await count(t, "articles")).toBeGreaterThan(1_600);
    // Auto-checkpoints every 1,000 pages (4 MB at 4 KiB pages) keep reusing the file from its start.
    const wal = statSync(`${file}-wal`).size;
    expect(wal).toBeLessThan(12 * 1024 * 1024);
    t.sqlite.close();
  }, 120_000);
});
