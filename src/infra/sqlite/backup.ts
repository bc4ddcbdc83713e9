/**
 * Online backups of an SQLite file with `VACUUM INTO`: SQLite copies one read transaction's snapshot into a
 * new, compact database file, so the copy is consistent while writers keep writing (WAL readers never block
 * writers).
 *
 * The file appears complete or not at all, owner-only, never over an existing one (src/lib/new-file.ts). In a
 * server the copy runs on its own connection in a worker thread (./vacuum-worker.ts): a large database takes
 * about 4 ms per MB to copy, and requests keep being served meanwhile. `:memory:` databases (tests) are
 * copied on the caller's connection.
 */
import type { Database } from "bun:sqlite";
import { writeNewFile } from "../../lib/new-file.ts";
import { BackupExists } from "../../store/ops.ts";
import { vacuumIntoInWorker } from "./vacuum-worker.ts";

/** SQL string literal (VACUUM INTO takes an expression, not a bound parameter in every SQLite build). */
const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** Copy the database on `sqlite` into `file` (which must not exist). Synchronous: blocks this thread. */
export function vacuumIntoSync(sqlite: Database, file: string): void {
  sqlite.run(`VACUUM INTO ${literal(file)}`);
}

/**
 * Make a consistent copy of the database at `source` (or on `sqlite` for `:memory:`) in `file`. Refuses an
 * existing target. Returns the copy's size in bytes.
 */
export async function backupTo(
  source: { path: string; sqlite?: Database },
  file: string,
  options: { inWorker?: boolean } = {},
): Promise<number> {
  return writeNewFile(
    file,
    async (temp) => {
      if (source.path === ":memory:" || options.inWorker === false) {
        if (!source.sqlite) throw new Error("backupTo: an in-memory database needs its connection");
        vacuumIntoSync(source.sqlite, temp);
      } else {
        await vacuumIntoInWorker(source.path, temp);
      }
    },
    () => new BackupExists(file),
  );
}
