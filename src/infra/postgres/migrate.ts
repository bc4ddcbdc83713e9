/**
 * Applies drizzle-kit's Postgres migrations (drizzle/pg) at start-up, under a session advisory lock.
 *
 * Drizzle's migrator is not safe to run from several processes at once (drizzle-orm#874): each reads the last
 * applied migration before its own transaction, so three nodes started together on an empty database race to
 * create the schema and apply everything (one fails, or worse, two apply a migration). Here every process takes
 * `pg_advisory_lock(MIGRATION_LOCK)` on one reserved connection first: the first applies what is missing, the
 * others wait, then find nothing left to do. A session lock is released by the server if the process dies,
 * so a crash mid-migration never leaves the lock held (the migration itself is one transaction).
 *
 * The compiled binary carries drizzle/ as an embedded asset (`bun build --asset=drizzle`, readable under
 * /$bunfs/root); from source the folder sits at the repo root.
 */
import { join } from "node:path";
import type { SQL } from "bun";
import { migrate } from "drizzle-orm/bun-sql/migrator";
import { drizzleOn } from "./client.ts";

export const migrationsFolder = import.meta.dir.startsWith("/$bunfs")
  ? "/$bunfs/root/drizzle/pg"
  : join(import.meta.dir, "..", "..", "..", "drizzle", "pg");

/** An arbitrary constant shared by every Quire process: "quire mig" in ASCII. */
export const MIGRATION_LOCK = 0x7175697265206d69n;

/** Migrations applied so far (0 on an empty database). */
async function appliedCount(conn: SQL): Promise<number> {
  const [row] = await conn`select to_regclass('drizzle.__drizzle_migrations') is not null as present`;
  if (!row?.present) return 0;
  const [counted] = await conn`select count(*)::int as n from drizzle.__drizzle_migrations`;
  return Number(counted?.n ?? 0);
}

/** Apply what is missing; resolves with how many migrations this call applied. */
export async function applyMigrations(pool: SQL, folder = migrationsFolder): Promise<{ applied: number }> {
  const conn = await pool.reserve();
  try {
    await conn.unsafe(`select pg_advisory_lock(${MIGRATION_LOCK})`);
    // A migration may wait for running servers' locks as long as it takes (the pool's lock_timeout is for
    // requests); reset afterwards, as the connection goes back to the pool.
    await conn.unsafe("set lock_timeout = 0");
    try {
      const before = await appliedCount(conn);
      await migrate(drizzleOn(conn), { migrationsFolder: folder });
      return { applied: (await appliedCount(conn)) - before };
    } finally {
      // A dead connection has already lost the lock with its session; its error is the one to report.
      await conn.unsafe(`select pg_advisory_unlock(${MIGRATION_LOCK})`).catch(() => undefined);
      await conn.unsafe("reset lock_timeout").catch(() => undefined);
    }
  } finally {
    await conn.release();
  }
}
