/**
 * What `bun run bench` sets up before it measures: the seeded corpus (an SQLite file, copied into Postgres
 * when that engine runs), one database per server and engine, 64 signed-in users whose sessions the raw
 * server's copy gets too, Quire's answers for the same-bytes server, and the byte-for-byte check of Quire's
 * answers against the raw server's.
 */
import { Database } from "bun:sqlite";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { SQL } from "bun";
import type { TestPostgres } from "../../tests/helpers/postgres.ts";
import type { Answer } from "../raw.ts";
import { seedDatabase } from "../seed.ts";
import { openMigrated } from "./db.ts";
import { type Engine, log, options } from "./options.ts";
import { copyCorpus } from "./postgres.ts";
import type { Server } from "./servers.ts";
import type { WorkloadContext } from "./workloads.ts";

export const password = "bench-password";

/** Seeds `dir`/seed.db; Quire, the SQL raw server and the start-up runs each get a copy of it. */
export async function seed(dir: string): Promise<{ popularTag: string }> {
  const file = join(dir, "seed.db");
  const { sqlite } = openMigrated(file);
  // Cheap argon2 parameters: the benchmark signs in 64 users and measures nothing about passwords.
  const passwordHash = await Bun.password.hash(password, {
    algorithm: "argon2id",
    memoryCost: 4096,
    timeCost: 1,
  });
  const r = seedDatabase(sqlite, {
    users: options.userCount,
    articles: options.articleCount,
    search: true,
    passwordHash,
  });
  sqlite.run("PRAGMA wal_checkpoint(TRUNCATE)");
  sqlite.close();
  log(
    `seeded ${r.users} users, ${r.articles} articles, ${r.comments} comments, ${r.favorites} favorites, ${r.follows} follows in ${(r.ms / 1000).toFixed(1)} s`,
  );
  // seed.db stays: the Postgres run copies its corpus from it.
  for (const copy of ["quire.db", "base.db", "start.db"]) copyFileSync(file, join(dir, copy));
  return { popularTag: r.popularTag };
}

export interface Databases {
  quire: string;
  base: string;
  start: string;
}

/** The databases of one engine: Quire's, the SQL raw server's (same data), one for start-up figures. */
export async function databases(
  engine: Engine,
  dir: string,
  pg: TestPostgres | undefined,
): Promise<Databases> {
  if (engine === "sqlite")
    return { quire: join(dir, "quire.db"), base: join(dir, "base.db"), start: join(dir, "start.db") };
  if (!pg) throw new Error("no Postgres");
  const quire = await pg.freshDatabase();
  const { ms } = await copyCorpus(join(dir, "seed.db"), quire.url);
  log(`copied the corpus into Postgres in ${(ms / 1000).toFixed(1)} s`);
  const copy = async (name: string) => {
    await pg.admin.unsafe(`create database "${name}" template "${quire.name}"`);
    return pg.urlOf(name);
  };
  const stamp = Date.now().toString(36);
  return {
    quire: quire.url,
    base: await copy(`bench_base_${stamp}`),
    start: await copy(`bench_start_${stamp}`),
  };
}

/** The Postgres server's version and durability settings, for the report. */
export async function postgresNote(url: string, pg: TestPostgres): Promise<string> {
  const sql = new SQL({ url, max: 1 });
  try {
    const [v] =
      await sql`select current_setting('server_version') as version, current_setting('fsync') as fsync,
      current_setting('synchronous_commit') as sync`;
    return `Postgres ${v?.version} (${pg.source}), fsync=${v?.fsync}, synchronous_commit=${v?.sync}`;
  } finally {
    await sql.close();
  }
}

/** Sign in 64 seeded users through Quire's API. */
export async function signIn(quire: Server): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 1; i <= 64; i++) {
    const res = await fetch(`${quire.url}/api/users/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: { email: `user${i}@bench.test`, password } }),
    });
    if (res.status !== 200) throw new Error(`login user${i}: ${res.status} ${await res.text()}`);
    tokens.push(((await res.json()) as { user: { token: string } }).user.token);
  }
  return tokens;
}

type SessionRow = { id: string; user_id: number; created_at: number; expires_at: number };

/** The sessions of Quire's copy, into the SQL raw server's copy (so the same tokens work on both). */
export async function copySessions(engine: Engine, from: string, to: string): Promise<void> {
  if (engine === "sqlite") {
    const quireDb = new Database(from, { readonly: true });
    const rows = quireDb
      .query("select id, user_id, created_at, expires_at from sessions")
      .all() as SessionRow[];
    quireDb.close();
    const base = new Database(to);
    const insert = base.prepare(
      "insert into sessions (id, user_id, created_at, expires_at) values (?, ?, ?, ?)",
    );
    base.transaction(() => {
      for (const r of rows) insert.run(r.id, r.user_id, r.created_at, r.expires_at);
    })();
    base.close();
    return;
  }
  const a = new SQL({ url: from, max: 1 });
  const b = new SQL({ url: to, max: 1 });
  try {
    const rows = (await a`select id, user_id, created_at, expires_at from sessions`) as SessionRow[];
    await b`insert into sessions ${b(rows, "id", "user_id", "created_at", "expires_at")}`;
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

/**
 * Quire's answers to every (path, token) pair the same-bytes workloads send, as wrk sends them (no
 * Accept-Encoding, so identity bodies): what bench/raw.ts replays.
 */
export async function captureAnswers(quire: Server, context: WorkloadContext): Promise<Answer[]> {
  const pairs: { path: string; authorization?: string }[] = [];
  for (const w of options.selected) {
    if (!w.refs?.includes("bytes")) continue;
    const spec = w.spec(context);
    const auths = spec.tokens?.length ? spec.tokens.map((t) => `Token ${t}`) : [undefined];
    for (const path of spec.paths) for (const authorization of auths) pairs.push({ path, authorization });
  }
  const answers: Answer[] = [];
  for (let i = 0; i < pairs.length; i += 32) {
    const batch = pairs.slice(i, i + 32).map(async ({ path, authorization }): Promise<Answer> => {
      const headers: Record<string, string> = { "accept-encoding": "identity" };
      if (authorization) headers.authorization = authorization;
      const res = await fetch(`${quire.url}${path}`, { headers, decompress: false });
      if (res.headers.has("content-encoding")) throw new Error(`${path}: answered encoded`);
      return { path, authorization, status: res.status, headers: [...res.headers], body: await res.text() };
    });
    answers.push(...(await Promise.all(batch)));
  }
  const bad = answers.find((a) => a.status !== 200);
  if (bad) throw new Error(`${bad.path}: ${bad.status} ${bad.body.slice(0, 200)}`);
  return answers;
}

/** Whether Quire and the SQL raw server give the same status and body for one request. */
export async function sameBytes(a: Server, b: Server, path: string, token?: string): Promise<boolean> {
  const get = async (s: Server) => {
    const res = await fetch(`${s.url}${path}`, { headers: token ? { authorization: `Token ${token}` } : {} });
    return `${res.status} ${await res.text()}`;
  };
  const [x, y] = await Promise.all([get(a), get(b)]);
  if (x !== y)
    log(`DIFFERENT answers for ${path}:\n  quire:    ${x.slice(0, 300)}\n  baseline: ${y.slice(0, 300)}`);
  return x === y;
}
