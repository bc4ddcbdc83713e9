/** What every Postgres repository is built on. */
import { sql } from "drizzle-orm";
import type { BunSQLDatabase } from "drizzle-orm/bun-sql";

/** Drizzle over a Bun.sql pool or over one transaction's connection: repositories work on either. */
export type PgDb = BunSQLDatabase<Record<string, never>>;

export const ph = (name: string) => sql.placeholder(name);

/**
 * Statements are compiled on first use and kept with their repository: for the pool's repositories that is
 * once per process; a unit of work's repositories live for one transaction, so each statement it uses is
 * compiled once in it (drizzle binds a compiled statement to one client).
 */
export function lazy<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => {
    built ??= build();
    return built;
  };
}

/** Bun returns int8 and numeric as strings; counts and sums are read through this. */
export const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));
