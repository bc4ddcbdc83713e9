/**
 * kill -9 during a write burst: the compiled binary takes 64 concurrent streams of writes (articles,
 * comments, favourites; the group-commit writer shares commits between them), is killed with SIGKILL in the
 * middle, and restarted on the same file. Every write it acknowledged (2xx) must be there; the file must pass
 * `integrity_check`; the WAL must stay bounded. Writes the server never answered may or may not be there
 * (they were in flight), but never half of one: an article exists with its tags and search entry or not at
 * all. Three rounds on the same file. Builds the binary (or takes QUIRE_BINARY).
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api, buildBinary, register, startServer } from "../helpers/binary.ts";
import { testEngine, testOnlyOn } from "../helpers/engine.ts";

const work = mkdtempSync(join(tmpdir(), "quire-write-crash-"));
const dataDir = join(work, "data");
const file = join(dataDir, "quire.db");
let binary = "";

const STREAMS = 64;
const ROUNDS = 3;

beforeAll(async () => {
  if (testEngine !== "sqlite") return;
  binary = await buildBinary(work);
}, 240_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const start = () => startServer(binary, dataDir, {}, work);

interface Acked {
  articles: string[];
  comments: number[];
  favorites: [string, string][];
}

/** One stream: write until the server stops answering; record what it acknowledged. */
async function stream(
  origin: string,
  token: string,
  username: string,
  n: number,
  acked: Acked,
  stop: () => boolean,
) {
  for (let i = 0; !stop(); i++) {
    try {
      const kind = i % 3;
      if (kind === 0) {
        const res = await api(
          origin,
          "POST",
          "/api/articles",
          {
            article: {
              title: `Burst ${n} ${i} ${Date.now()}`,
              description: "d",
              body: "b",
              tagList: ["burst"],
            },
          },
          token,
        );
        if (res.status === 201) acked.articles.push(res.body.article.slug);
      } else if (acked.articles.length > 0) {
        const slug = acked.articles[(n * 7 + i) % acked.articles.length]!;
        if (kind === 1) {
          const res = await api(
            origin,
            "POST",
            `/api/articles/${slug}/comments`,
            { comment: { body: `c ${n} ${i}` } },
            token,
          );
          if (res.status === 201) acked.comments.push(res.body.comment.id);
        } else {
          const res = await api(origin, "POST", `/api/articles/${slug}/favorite`, undefined, token);
          if (res.status === 200) acked.favorites.push([username, slug]);
        }
      }
    } catch {
      return; // the connection died with the server
    }
  }
}

// SQLite's: its group-commit writer acknowledges a write after its own commit, into a file and WAL checked
// here. On Postgres a write is acknowledged after the server's commit; kill -9 of the binary there is
// tests/e2e/ops.test.ts's and tests/e2e/jobs-crash.test.ts's.
testOnlyOn("sqlite")(
  "no acknowledged write is lost to kill -9 mid-burst; the file stays sound and its WAL bounded",
  async () => {
    const acked: Acked = { articles: [], comments: [], favorites: [] };
    let server = await start();
    const writers: { name: string; token: string }[] = [];
    for (let i = 0; i < 8; i++) {
      const name = `burst${i}`;
      writers.push({ name, token: await register(server.origin, name) });
    }

    for (let round = 0; round < ROUNDS; round++) {
      let stopped = false;
      const before = acked.articles.length + acked.comments.length + acked.favorites.length;
      const streams = Array.from({ length: STREAMS }, (_, n) => {
        const w = writers[n % writers.length]!;
        return stream(server.origin, w.token, w.name, n, acked, () => stopped);
      });
      // Let the burst build up, then kill in the middle of it.
      const deadline = Date.now() + 10_000;
      while (
        acked.articles.length + acked.comments.length + acked.favorites.length < before + 600 &&
        Date.now() < deadline
      )
        await Bun.sleep(10);
      server.proc.kill("SIGKILL");
      await server.proc.exited;
      stopped = true;
      await Promise.all(streams);
      const walBytes = (() => {
        try {
          return statSync(`${file}-wal`).size;
        } catch {
          return 0;
        }
      })();
      // Bounded by the checkpointer (and SQLite's backstop at ~40 MB); a burst of small writes is far below.
      expect(walBytes).toBeLessThan(64 * 1024 * 1024);

      server = await start();
      const db = new Database(file, { readonly: true });
      try {
        expect(db.query("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
        const slugs = new Set(
          db
            .query<{ slug: string }, []>("SELECT slug FROM articles")
            .all()
            .map((r) => r.slug),
        );
        const missingArticles = acked.articles.filter((s) => !slugs.has(s));
        expect(missingArticles).toEqual([]);
        const comments = new Set(
          db
            .query<{ id: number }, []>("SELECT id FROM comments")
            .all()
            .map((r) => r.id),
        );
        expect(acked.comments.filter((id) => !comments.has(id))).toEqual([]);
        const favorites = new Set(
          db
            .query<{ k: string }, []>(
              "SELECT u.username || ' ' || a.slug AS k FROM favorites f JOIN users u ON u.id = f.user_id JOIN articles a ON a.id = f.article_id",
            )
            .all()
            .map((r) => r.k),
        );
        expect(acked.favorites.filter(([u, s]) => !favorites.has(`${u} ${s}`))).toEqual([]);
        // Never half a write: every article has its tag link and its search entry.
        const untagged = db
          .query<{ n: number }, []>(
            "SELECT count(*) AS n FROM articles a WHERE a.title LIKE 'Burst %' AND NOT EXISTS (SELECT 1 FROM article_tags t WHERE t.article_id = a.id)",
          )
          .get()!.n;
        expect(untagged).toBe(0);
        const unindexed = db
          .query<{ n: number }, []>(
            "SELECT count(*) AS n FROM articles a WHERE a.title LIKE 'Burst %' AND a.id NOT IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'burst')",
          )
          .get()!.n;
        expect(unindexed).toBe(0);
        // favorites_count agrees with the rows.
        const drift = db
          .query<{ n: number }, []>(
            "SELECT count(*) AS n FROM articles a WHERE a.favorites_count != (SELECT count(*) FROM favorites f WHERE f.article_id = a.id)",
          )
          .get()!.n;
        expect(drift).toBe(0);
      } finally {
        db.close();
      }
    }
    const total = acked.articles.length + acked.comments.length + acked.favorites.length;
    expect(total).toBeGreaterThan(ROUNDS * 600);
    console.log(`kill -9 × ${ROUNDS}: ${total} acknowledged writes, none lost`);
    server.proc.kill("SIGTERM");
    await server.exited;
  },
  180_000,
);
