/**
 * The SQLite connection. One connection per process: bun:sqlite is synchronous and Bun runs JavaScript on
 * one thread, so a transaction here cannot interleave with another request's. Pragmas are set explicitly
 * because bun:sqlite's defaults (busy_timeout 0, synchronous FULL) are wrong for a server.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { drizzle } from "drizzle-orm/bun-sqlite";
import * as schema from "./schema.ts";

/** See `journal_size_limit` below. */
export const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

export type Db = ReturnType<typeof openDatabase>["db"];

export interface OpenOptions {
  /** Milliseconds a writer waits for another process's lock (the CLI, a backup) before SQLITE_BUSY. */
  busyTimeoutMs?: number;
}

export function openDatabase(url: string, options: OpenOptions = {}) {
  const memory = url === ":memory:";
  if (!memory) mkdirSync(dirname(url), { recursive: true });
  const sqlite = new Database(url, { create: true, strict: true });
  sqlite.run(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  if (!memory) sqlite.run("PRAGMA journal_mode = WAL");
  // A WAL that grew past this (a long reader held checkpoints back) is cut back to it once it starts over,
  // instead of keeping its peak size on disk for good. Above the checkpoint backstop (~40 MB).
  sqlite.run(`PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  // NORMAL is durable in WAL mode except for the last transactions before a power loss (not a crash).
  sqlite.run("PRAGMA synchronous = NORMAL");
  sqlite.run("PRAGMA foreign_keys = ON");
  sqlite.run("PRAGMA temp_store = MEMORY");
  sqlite.run("PRAGMA cache_size = -32000"); // 32 MB page cache
  const db = drizzle({ client: sqlite, schema });
  return { sqlite, db };
}
