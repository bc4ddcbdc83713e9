/**
 * SQLite connections. A file database gets two: the writer (owned by the group-commit writer, ./writer.ts)
 * and a reader, so a read never sees a write that has not committed. `:memory:` is one private database per
 * connection, so it gets one connection for both; bun:sqlite is synchronous and units of work never yield,
 * so reads still cannot land inside a unit (see ./writer.ts).
 *
 * Pragmas are set explicitly because bun:sqlite's defaults (busy_timeout 0, synchronous FULL) are wrong for
 * a server. WAL: readers and the writer never block each other. synchronous=NORMAL: durable through a crash
 * of the process (kill -9); a power loss may lose the last commits, never corrupt the file.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { drizzle } from "drizzle-orm/bun-sqlite";
import * as schema from "./schema.ts";

export type SqliteDb = ReturnType<typeof drizzleOn>;

/** See `journal_size_limit` below. */
export const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

export interface OpenOptions {
  /** Milliseconds a writer waits for another process's lock (the CLI, a backup) before SQLITE_BUSY. */
  busyTimeoutMs?: number;
}

const drizzleOn = (connection: Database) => drizzle({ client: connection, schema });

export function isMemory(url: string): boolean {
  return url === ":memory:";
}

/** One connection with the server's pragmas. */
export function openConnection(url: string, options: OpenOptions = {}): Database {
  const memory = isMemory(url);
  if (!memory) mkdirSync(dirname(url), { recursive: true });
  const connection = new Database(url, { create: true, strict: true });
  connection.run(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  if (!memory) connection.run("PRAGMA journal_mode = WAL");
  // A WAL that grew past this (a long reader held checkpoints back) is cut back to it once it starts over,
  // instead of keeping its peak size on disk for good. Above the checkpoint backstop (~40 MB).
  connection.run(`PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  connection.run("PRAGMA synchronous = NORMAL");
  connection.run("PRAGMA foreign_keys = ON");
  connection.run("PRAGMA temp_store = MEMORY");
  connection.run("PRAGMA cache_size = -32000"); // 32 MB page cache
  return connection;
}

export interface Connections {
  writer: Database;
  reader: Database;
  writerDb: SqliteDb;
  readerDb: SqliteDb;
}

/** The writer and the reader (the same connection for `:memory:`). */
export function openConnections(url: string, options: OpenOptions = {}): Connections {
  const writer = openConnection(url, options);
  const reader = isMemory(url) ? writer : openConnection(url, options);
  const writerDb = drizzleOn(writer);
  return { writer, reader, writerDb, readerDb: reader === writer ? writerDb : drizzleOn(reader) };
}
