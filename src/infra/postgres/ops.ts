/**
 * EngineOps on Postgres: backups with pg_dump (./dump.ts), the database's size, the pool's figures for
 * /metrics, and the migrations table. Upkeep is the server's own: autovacuum analyses and vacuums the tables,
 * so `optimize` has nothing to do.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { EngineOps } from "../../store/ops.ts";
import { dumpTo } from "./dump.ts";
import { migrationsFolder } from "./migrate.ts";
import type { PostgresStore } from "./store.ts";

/** Migrations the binary carries (drizzle-kit's journal, embedded with the SQL). */
export function expectedPostgresMigrations(folder = migrationsFolder): number {
  const journal = JSON.parse(readFileSync(join(folder, "meta", "_journal.json"), "utf8")) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

export async function postgresEngineOps(store: PostgresStore, url: string): Promise<EngineOps> {
  const { pool } = store;
  const [row] = await pool`select current_setting('server_version') as v`;
  let expected: number | undefined;
  return {
    description: `postgres ${String(row?.v ?? "unknown").split(" ")[0]}`,
    backupExtension: ".dump",
    backup: (file) => dumpTo(url, file),
    async sizeBytes() {
      const [r] = await pool`select pg_database_size(current_database())::float8 as bytes`;
      return Number(r?.bytes ?? 0);
    },
    async optimize() {
      return {};
    },
    metrics: [
      {
        name: "quire_postgres_pool_connections",
        help: "Most connections this process's pool opens (DATABASE_POOL_SIZE).",
        type: "gauge",
        read: () => store.stats().poolSize,
      },
      {
        name: "quire_postgres_pool_in_use",
        help: "Pool connections held by a running read or unit of work now.",
        type: "gauge",
        read: () => store.stats().inUse,
      },
      {
        name: "quire_postgres_pool_waiting",
        help: "Reads and units waiting for a pool connection now (every one is held).",
        type: "gauge",
        read: () => store.stats().waiting,
      },
      {
        name: "quire_postgres_pool_waits_total",
        help: "Reads and units that had to wait for a pool connection (raise DATABASE_POOL_SIZE if this climbs).",
        type: "counter",
        read: () => store.stats().waits,
      },
      {
        name: "quire_postgres_query_errors_total",
        help: "Reads and units of work that failed, whatever the cause (a refused request or the server).",
        type: "counter",
        read: () => store.stats().queryErrors,
      },
      {
        name: "quire_postgres_connection_errors_total",
        help: "Pool connections that closed with an error or failed to open.",
        type: "counter",
        read: () => store.stats().connectionErrors,
      },
      {
        name: "quire_postgres_unit_retries_total",
        help: "Units of work run again after a serialization failure or deadlock.",
        type: "counter",
        read: () => store.stats().retries,
      },
    ],
    async migrations() {
      expected ??= expectedPostgresMigrations();
      const [r] = await pool`select to_regclass('drizzle.__drizzle_migrations') is not null as present`;
      if (!r?.present) return { applied: 0, expected };
      const [n] = await pool`select count(*)::int as n from drizzle.__drizzle_migrations`;
      return { applied: Number(n?.n ?? 0), expected };
    },
  };
}
