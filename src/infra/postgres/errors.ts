/**
 * Bun.sql (Postgres) errors → the store's engine-neutral errors (src/store/errors.ts). Drizzle wraps a driver
 * error in DrizzleQueryError with the PostgresError as `cause`, so the chain is walked (a few levels at most).
 *
 * Bun puts its own code in `code` ("ERR_POSTGRES_SERVER_ERROR", "ERR_POSTGRES_CONNECTION_REFUSED", …) and the
 * server's SQLSTATE in `errno`; a unique violation (23505) names the index or constraint in `constraint`,
 * which the schema spells like SQLite's (users_email_lower_uq, articles_slug_uq, …).
 *
 * Serialization failures (40001) and deadlocks (40P01) are not mapped here: the store retries the whole unit
 * (./store.ts) and answers StoreUnavailable("busy") only when its retries run out.
 */
import { SQL } from "bun";
import {
  MissingReference,
  StoreUnavailable,
  type UnavailableReason,
  UniqueViolation,
} from "../../store/errors.ts";

export interface PgErrorInfo {
  /** Bun's code, e.g. ERR_POSTGRES_SERVER_ERROR. */
  code: string;
  /** SQLSTATE from the server, when the server answered. */
  sqlState?: string;
  constraint?: string;
}

/** The Bun.sql error in `err`'s cause chain, if any. */
export function pgErrorOf(err: unknown): PgErrorInfo | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof SQL.PostgresError || (e instanceof Error && isBunPostgresCode(e))) {
      const { code, errno, constraint } = e as SQL.PostgresError;
      return { code, sqlState: errno, constraint };
    }
  }
  return undefined;
}

function isBunPostgresCode(e: Error): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && code.startsWith("ERR_POSTGRES_");
}

/** SQLSTATEs the whole unit can be run again for: nothing of it was committed. */
export const RETRYABLE_STATES = new Set(["40001", "40P01"]);

export function isRetryable(err: unknown): boolean {
  const state = pgErrorOf(err)?.sqlState;
  return state !== undefined && RETRYABLE_STATES.has(state);
}

/** SQLSTATE → why the store cannot serve now (an operator's problem, not the request's). */
function unavailableState(state: string): UnavailableReason | undefined {
  if (state === "53100") return "full"; // disk_full
  if (state === "25006") return "read-only"; // read_only_sql_transaction (a standby, or default_transaction_read_only)
  if (state === "40001" || state === "40P01") return "busy"; // retries ran out
  if (state === "55P03" || state === "57014") return "busy"; // lock_not_available, query_canceled (timeouts)
  if (state === "53000" || state === "53200" || state === "53300" || state === "53400") return "busy"; // out of resources, too many connections
  if (state === "58030") return "io"; // io_error
  if (state.startsWith("08")) return "unreachable"; // connection exceptions
  // admin_shutdown, crash_shutdown, cannot_connect_now (starting up / shutting down), database_dropped
  if (state === "57P01" || state === "57P02" || state === "57P03" || state === "57P04") return "unreachable";
  return undefined;
}

/** Bun's own error codes that mean the server cannot be reached, or dropped the connection. */
const UNREACHABLE_CODES = new Set([
  "ERR_POSTGRES_CONNECTION_CLOSED",
  "ERR_POSTGRES_CONNECTION_REFUSED",
  "ERR_POSTGRES_CONNECTION_FAILED",
  "ERR_POSTGRES_CONNECTION_TIMEOUT",
  "ERR_POSTGRES_IDLE_TIMEOUT",
  "ERR_POSTGRES_LIFETIME_TIMEOUT",
  "ERR_POSTGRES_TLS_NOT_AVAILABLE",
  "ERR_POSTGRES_TLS_UPGRADE_FAILED",
]);

const unavailableCode = (code: string): UnavailableReason | undefined =>
  UNREACHABLE_CODES.has(code) ? "unreachable" : undefined;

/** The store error for a driver error, or the error itself when it is none of those (a bug: 500). */
export function normalisePostgresError(err: unknown): unknown {
  if (err instanceof UniqueViolation || err instanceof StoreUnavailable || err instanceof MissingReference)
    return err;
  const info = pgErrorOf(err);
  if (!info) return systemUnavailable(err) ?? err;
  if (info.sqlState === "23505") return new UniqueViolation(info.constraint ?? "unknown", { cause: err });
  // A referenced row went away between a read and the write (e.g. an article deleted mid-comment), as
  // SQLite's SQLITE_CONSTRAINT_FOREIGNKEY: the service answers 404 or 409, never 500.
  if (info.sqlState === "23503") return new MissingReference({ cause: err });
  const reason = (info.sqlState ? unavailableState(info.sqlState) : undefined) ?? unavailableCode(info.code);
  return reason ? new StoreUnavailable(reason, { cause: err }) : err;
}

/** Socket errors Bun raises as plain Errors (ECONNREFUSED, ECONNRESET, …) before any Postgres exchange. */
function systemUnavailable(err: unknown): StoreUnavailable | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (
      typeof code === "string" &&
      /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|AI_AGAIN)$/.test(code)
    ) {
      return new StoreUnavailable("unreachable", { cause: err });
    }
  }
  return undefined;
}
