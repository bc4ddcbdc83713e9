/**
 * bun:sqlite errors → the store's engine-neutral errors (src/store/errors.ts). Drizzle may wrap a driver
 * error in `cause`, so the chain is walked (a few levels at most).
 *
 * Unique violations name the index as the schema does: SQLite says "UNIQUE constraint failed: index
 * 'users_email_lower_uq'" for an expression index but "UNIQUE constraint failed: articles.slug" for a
 * column index, so column lists are mapped back to their unique index through the schema.
 */
import { getTableConfig, type SQLiteTable } from "drizzle-orm/sqlite-core";
import {
  MissingReference,
  StoreUnavailable,
  type UnavailableReason,
  UniqueViolation,
} from "../../store/errors.ts";
import * as schema from "./schema.ts";

/** "table.col1, table.col2" → unique index name, from the schema's unique indexes on plain columns. */
const uniqueByColumns = (() => {
  const map = new Map<string, string>();
  for (const value of Object.values(schema)) {
    if (typeof value !== "object" || value === null || !("getSQL" in value)) continue;
    let config: ReturnType<typeof getTableConfig>;
    try {
      config = getTableConfig(value as SQLiteTable);
    } catch {
      continue;
    }
    for (const index of config.indexes) {
      if (!index.config.unique) continue;
      const names = index.config.columns.map((c) => ("name" in c ? `${config.name}.${c.name}` : undefined));
      if (names.every((n) => n !== undefined)) map.set(names.join(", "), index.config.name);
    }
    // `.unique("name")` on a column: drizzle-kit makes it a unique index of that name.
    for (const column of config.columns) {
      if (column.isUnique && column.uniqueName) map.set(`${config.name}.${column.name}`, column.uniqueName);
    }
  }
  return map;
})();

function codeOf(err: unknown): { code: string; message: string } | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("SQLITE_")) return { code, message: e.message };
  }
  return undefined;
}

/** The SQLite result code (extended, e.g. `SQLITE_IOERR_WRITE`) of an error however deeply wrapped. */
export const sqliteCode = (err: unknown): string | undefined => codeOf(err)?.code;

/**
 * The storage under the database refuses writes: the disk is full (`SQLITE_FULL`, also past
 * `max_page_count`), the filesystem failed or went read-only (`SQLITE_IOERR_*`, `SQLITE_READONLY_*`), or a
 * journal file cannot be opened (`SQLITE_CANTOPEN_*`). Not the client's fault and not a bug: the operator
 * has to act, then writes succeed again. Returns the code, or undefined for any other error.
 */
export function sqliteStorageFailure(err: unknown): string | undefined {
  const code = err instanceof StoreUnavailable ? sqliteCode(err.cause) : sqliteCode(err);
  return code && /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN)(_|$)/.test(code) ? code : undefined;
}

function unavailable(code: string): UnavailableReason | undefined {
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) return "busy";
  if (code === "SQLITE_FULL") return "full";
  if (code.startsWith("SQLITE_READONLY")) return "read-only";
  if (code.startsWith("SQLITE_IOERR") || code.startsWith("SQLITE_CANTOPEN")) return "io";
  return undefined;
}

/** The store error for a driver error, or the error itself when it is none of those (a bug: 500). */
export function normaliseSqliteError(err: unknown): unknown {
  if (err instanceof UniqueViolation || err instanceof StoreUnavailable || err instanceof MissingReference)
    return err;
  const found = codeOf(err);
  if (!found) return err;
  if (found.code === "SQLITE_CONSTRAINT_UNIQUE" || found.code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
    const index = /index '([^']+)'/.exec(found.message)?.[1];
    const columns = /constraint failed: (.+)$/.exec(found.message)?.[1];
    const name = index ?? (columns && uniqueByColumns.get(columns)) ?? columns ?? "unknown";
    return new UniqueViolation(name, { cause: err });
  }
  if (found.code === "SQLITE_CONSTRAINT_FOREIGNKEY") return new MissingReference({ cause: err });
  const reason = unavailable(found.code);
  return reason ? new StoreUnavailable(reason, { cause: err, code: found.code }) : err;
}
