/**
 * What only the engine can do, behind one small interface: consistent copies, size, upkeep, and whether
 * every migration this binary carries is applied. Modules (backups, housekeeping, health, metrics) use this
 * and never reach for a driver.
 */
import { basename } from "node:path";
import { AppError } from "../errors.ts";

/** A series only this engine has, read at scrape time (/metrics). */
export interface EngineMetric {
  name: string;
  help: string;
  type: "counter" | "gauge";
  read(): number | Promise<number>;
}

export interface EngineOps {
  /** The engine and its version, e.g. "sqlite 3.50.4" (metrics, logs). */
  readonly description: string;
  /** File name suffix of a backup (`.db` for SQLite). */
  readonly backupExtension: string;
  /**
   * Write a consistent copy of the whole database to `file`, which must not exist (BackupExists otherwise).
   * The copy is made while the server keeps serving. Returns its size in bytes.
   */
  backup(file: string): Promise<number>;
  /** Bytes the database takes (metrics). */
  sizeBytes(): Promise<number>;
  /** Periodic upkeep (housekeeping): what it did, for the log. */
  optimize(): Promise<Record<string, unknown>>;
  readonly metrics: readonly EngineMetric[];
  /** Migrations applied to the database, and carried by this binary (readiness). */
  migrations(): Promise<{ applied: number; expected: number }>;
}

/** The backup target exists already: backups never overwrite a file (409). */
export class BackupExists extends AppError {
  override name = "BackupExists";
  constructor(file: string) {
    super(409, { backup: [`${basename(file)} already exists`] });
  }
}
