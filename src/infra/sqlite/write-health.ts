/**
 * Can the database take writes? Taking the write lock (what readiness always checks) says nothing about a
 * full disk or a filesystem gone read-only: SQLite only finds out when a commit appends to the WAL. So every
 * write that failed for a storage reason (`sqliteStorageFailure`: SQLITE_FULL, _IOERR, _READONLY, _CANTOPEN)
 * is noted here (by the store, for every unit of work and every checkpoint), and from then on the database
 * counts as not writable until a recovery check passes:
 * - room to grow: the filesystem has at least MIN_FREE_BYTES free and the database is that far below its
 *   `max_page_count` (a disk that just crossed zero would fail the next larger write again);
 * - a real write commits: `PRAGMA user_version` rewritten with its own value (nothing uses it), which
 *   appends a frame to the WAL like any commit.
 * The check runs when readiness asks, so the server turns ready again by itself once space returns.
 */
import type { Database } from "bun:sqlite";
import { statfsSync } from "node:fs";
import { dirname } from "node:path";
import { sqliteStorageFailure } from "./errors.ts";

/** Free space below which a database that failed a write is not trusted with traffic again. */
export const MIN_FREE_BYTES = 8 * 1024 * 1024;

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

export class WriteHealth {
  /** The code of the last storage failure not yet recovered from. */
  failure: string | undefined;

  /** Note a failed write if it failed for a storage reason; returns that reason (the SQLite code). */
  note(err: unknown): string | undefined {
    const code = sqliteStorageFailure(err);
    if (code) this.failure = code;
    return code;
  }

  /**
   * True unless a storage failure is outstanding and the recovery check still fails. Call it on the writer
   * connection outside any transaction. Errors other than storage ones (the write lock being busy, say)
   * propagate: they are the caller's to judge.
   */
  recover(sqlite: Database): boolean {
    if (this.failure === undefined) return true;
    if (!roomToGrow(sqlite)) return false;
    try {
      probeWrite(sqlite);
    } catch (err) {
      if (this.note(err)) return false;
      throw err;
    }
    this.failure = undefined;
    return true;
  }
}
