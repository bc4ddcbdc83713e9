/**
 * The Postgres connection pool: Bun's built-in SQL client (nothing added to the binary) under drizzle's
 * bun-sql driver. One pool per store; a unit of work holds one of its connections for its transaction, a
 * read takes one per statement.
 */
import { SQL } from "bun";
import { drizzle } from "drizzle-orm/bun-sql";
import type { PgDb } from "./repos/shared.ts";

export interface PoolOptions {
  /** postgres:// or postgresql:// URL. */
  url: string;
  /** Most connections the pool opens. */
  poolSize?: number;
  /** Seconds to wait for a connection to open. */
  connectTimeoutSeconds?: number;
  /** Seconds an idle connection stays open (0: forever). */
  idleTimeoutSeconds?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  /**
   * How long a statement waits for a row or table lock before it fails with 55P03 (StoreUnavailable "busy",
   * 503 with Retry-After), as SQLite's busy_timeout bounds a wait for its write lock: a session left holding
   * a lock (an operator's psql) must not hang every request behind it. Default 5000; 0 waits forever.
   */
  lockTimeoutMs?: number;
  /** A connection closed or failed to open (for the log and metrics). */
  onClose?: (err: Error) => void;
}

export const DEFAULT_POOL_SIZE = 10;

/**
 * The database is named explicitly from the URL: Bun would otherwise let a PGDATABASE in the environment
 * win over the URL's path, and a server must connect where its configuration says.
 */
export function openPool(options: PoolOptions): SQL {
  const url = new URL(options.url);
  const database = decodeURIComponent(url.pathname.replace(/^\//, "")) || undefined;
  return new SQL({
    url: options.url,
    adapter: "postgres",
    ...(database !== undefined && { database }),
    max: Math.max(1, options.poolSize ?? DEFAULT_POOL_SIZE),
    connectionTimeout: options.connectTimeoutSeconds ?? 10,
    idleTimeout: options.idleTimeoutSeconds ?? 60,
    connection: {
      application_name: options.applicationName ?? "quire",
      lock_timeout: String(Math.max(0, Math.trunc(options.lockTimeoutMs ?? 5000))),
    },
    onclose: options.onClose ? (err) => err && options.onClose?.(err) : undefined,
  });
}

/** Drizzle over a pool, a reserved connection or a transaction (no relational schema: repos use the builder). */
export const drizzleOn = (client: SQL): PgDb => drizzle({ client }) as PgDb;
