/** EngineOps on SQLite: VACUUM INTO backups, the file's size, checkpoint + optimize, the migrations table. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { EngineOps } from "../../store/ops.ts";
import { backupTo } from "./backup.ts";
import { migrationsFolder } from "./migrate.ts";
import type { SqliteStore } from "./store.ts";

/** Migrations the binary carries (drizzle-kit's journal, embedded with the SQL). */
export function expectedMigrations(folder = migrationsFolder): number {
  const journal = JSON.parse(readFileSync(join(folder, "meta", "_journal.json"), "utf8")) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

export function sqliteEngineOps(store: SqliteStore): EngineOps {
  const { writer, reader } = store.connections;
  let expected: number | undefined;
  const version = reader.query<{ v: string }, []>("SELECT sqlite_version() AS v").get()?.v ?? "unknown";
  return {
    description: `sqlite ${version}`,
    metrics: [
      {
        name: "quire_sqlite_checkpoint_failures_total",
        help: "Background WAL checkpoints that failed (while they fail the WAL grows with every write).",
        type: "counter",
        read: () => store.checkpointStats().failures,
      },
      {
        name: "quire_sqlite_commits_total",
        help: "Transactions the group-commit writer committed (each carries one or more units of work).",
        type: "counter",
        read: () => store.writerStats().batches,
      },
      {
        name: "quire_sqlite_units_total",
        help: "Units of work (writes) committed; divided by quire_sqlite_commits_total: writes per commit.",
        type: "counter",
        read: () => store.writerStats().units,
      },
      {
        name: "quire_sqlite_wal_bytes",
        help: "Size of the write-ahead log file.",
        type: "gauge",
        read: () => store.walBytes(),
      },
    ],
    backupExtension: ".db",
    backup: (file) => backupTo({ path: store.url, sqlite: writer }, file),
    async sizeBytes() {
      const row = reader
        .query<{ bytes: number }, []>(
          "SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()",
        )
        .get();
      return row?.bytes ?? 0;
    },
    optimize: () =>
      // Between two batches of writes: neither statement may run inside a transaction. PASSIVE never waits
      // for readers; `optimize` refreshes the planner's statistics where they drifted.
      store.exclusive((connection) => {
        const [checkpoint] = connection
          .query<{ busy: number; log: number; checkpointed: number }, []>("PRAGMA wal_checkpoint(PASSIVE)")
          .all();
        connection.run("PRAGMA optimize");
        return { checkpoint };
      }),
    async migrations() {
      expected ??= expectedMigrations();
      let applied = 0;
      try {
        applied =
          reader.query<{ n: number }, []>("SELECT count(*) AS n FROM __drizzle_migrations").get()?.n ?? 0;
      } catch {
        // no table: nothing applied
      }
      return { applied, expected };
    },
  };
}
