/**
 * Can the database take writes? Taking the write lock (what readiness always checks) says nothing about a
 * full disk or a filesystem gone read-only: SQLite only finds out when a commit appends to the WAL. So every
 * write that failed for a storage reason (`sqliteStorageFailure`: SQLITE_FULL, _IOERR, _READONLY, _CANTOPEN)
 * is noted here, and from then on the database counts as not writable until a recovery check passes:
 * - room to grow: the filesystem has at least MIN_FREE_BYTES free and the database is that far below its
 *   `max_page_count` (a disk that just crossed zero would fail the next larger write again);
 * - a real write commits: `PRAGMA user_version` rewritten with its own value (nothing uses it), which
 *   appends a frame to the WAL like any commit.
 * The check runs when readiness asks, so the server turns ready again by itself once space returns.
 */
import type { Database } from "bun:sqlite";
import { statfsSync } from "node:fs";
import { dirname } from "node:path";
import { sqliteStorageFailure } from "../errors.ts";
import { perOwner } from "../lib/memo.ts";

/** Free space below which a database that failed a write is not trusted with traffic again. */
export const MIN_FREE_BYTES = 8 * 1024 * 1024;

interface WriteHealth {
  /** The code of the last storage failure not yet recovered from. */
  failure?: string;
}

const healthOf = perOwner((_sqlite: Database): WriteHealth => ({}));

/** Note a failed write if it failed for a storage reason; returns that reason (the SQLite code). */
export function noteWriteFailure(sqlite: Database, err: unknown): string | undefined {
  const code = sqliteStorageFailure(err);
  if (code) healthOf(sqlite).failure = code;
  return code;
}

/** The unrecovered storage failure, if any (without checking again). */
export function writeFailure(sqlite: Database): string | undefined {
  return healthOf(sqlite).failure;
}

/** Bytes free to this process on the database's filesystem; undefined for `:memory:` or when unknown. */
export function freeBytes(sqlite: Database): number | undefined {
  const file = sqlite.filename;
  if (file === "" || file === ":memory:") return undefined;
  try {
    const fs = statfsSync(dirname(file));
    return fs.bavail * fs.bsize;
  } catch {
    return undefined;
  }
}

function roomToGrow(sqlite: Database): boolean {
  const row = sqlite
    .query<{ pages: number; max: number; size: number }, []>(
      "SELECT page_count AS pages, max_page_count AS max, page_size AS size FROM pragma_page_count(), pragma_max_page_count(), pragma_page_size()",
    )
    .get();
  if (row && (row.max - row.pages) * row.size < MIN_FREE_BYTES) return false;
  const free = freeBytes(sqlite);
  return free === undefined || free >= MIN_FREE_BYTES;
}

/** Commit a write that changes nothing. The caller holds no transaction on this connection. */
function probeWrite(sqlite: Database): void {
  const version = sqlite.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version ?? 0;
  sqlite.run("BEGIN IMMEDIATE");
  try {
    sqlite.run(`PRAGMA user_version = ${Math.trunc(version)}`);
    sqlite.run("COMMIT");
  } catch (err) {
    if (sqlite.inTransaction) sqlite.run("ROLLBACK");
    throw err;
  }
}

/**
 * True unless a storage failure is outstanding and the recovery check still fails. Errors other than
 * storage ones (the write lock being busy, say) propagate: they are the caller's to judge.
 */
export function recoverWrites(sqlite: Database): boolean {
  const health = healthOf(sqlite);
  if (health.failure === undefined) return true;
  if (!roomToGrow(sqlite)) return false;
  try {
    probeWrite(sqlite);
  } catch (err) {
    if (noteWriteFailure(sqlite, err)) return false;
    throw err;
  }
  health.failure = undefined;
  return true;
}
