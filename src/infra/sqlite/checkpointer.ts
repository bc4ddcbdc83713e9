/**
 * WAL checkpoints off the request path. By default SQLite checkpoints inside whichever commit pushes the WAL
 * past 1,000 pages, and a checkpoint fsyncs the database file: that commit (one unlucky request) stalls for
 * tens to hundreds of milliseconds, which is the p99 of every write workload. Here a worker thread with its
 * own connection runs `PRAGMA wal_checkpoint(PASSIVE)` every `intervalMs`, and back to back while the WAL
 * keeps growing past 1,000 pages: passive checkpoints never block writers, and once one has copied
 * everything the next writer starts the WAL over, so it stays bounded by what one interval writes. SQLite's
 * own auto-checkpoint stays on at a much larger threshold as a backstop, in case the worker dies or falls
 * behind, and `journal_size_limit` (./client.ts) shrinks the file back after a spike.
 *
 * A checkpoint that fails (a full disk, an I/O error) leaves the WAL growing with every commit. That is an
 * alarm, not something to retry harder: the first failure of a streak is logged at error level with the WAL's
 * size, then once a minute while it lasts, and the recovery at info; `stats()` feeds
 * `quire_sqlite_checkpoint_failures_total`; a storage failure also marks the database not writable for
 * readiness (`onStorageFailure`, ./write-health.ts) until a write commits again.
 *
 * The worker's source is inlined and started from a Blob URL, as in ./vacuum-worker.ts: a
 * compiled binary needs no extra entry point for it.
 */
import type { Database } from "bun:sqlite";
import { statSync } from "node:fs";
import type { Logger } from "../../lib/logger.ts";

const source = `
import { Database } from "bun:sqlite";
let db;
let timer;
let stopping = false;
let hurried = 0;
function loop(intervalMs, busyPages) {
  if (stopping) return;
  let behind = false;
  try {
    const r = db.query("PRAGMA wal_checkpoint(PASSIVE)").get();
    // Writers appended while it ran, and the WAL is long: go again at once (a few times in a row at most),
    // so the WAL never nears the inline backstop under a burst of writes.
    behind = r.checkpointed < r.log && r.log > busyPages && hurried < 8;
    postMessage({ checkpoint: r });
  } catch (err) {
    postMessage({ error: String((err && err.message) || err), code: err && err.code });
  }
  hurried = behind ? hurried + 1 : 0;
  timer = setTimeout(loop, behind ? 0 : intervalMs, intervalMs, busyPages);
}
self.onmessage = (event) => {
  const message = event.data;
  if (message.stop) {
    stopping = true;
    clearTimeout(timer);
    try { db && db.close(); } catch {}
    postMessage({ stopped: true });
    return;
  }
  db = new Database(message.file);
  db.run("PRAGMA busy_timeout = 1000");
  loop(message.intervalMs, message.busyPages);
};
`;

/** The backstop: pages of WAL after which a commit checkpoints inline, if the worker has not (~40 MB). */
export const BACKSTOP_AUTOCHECKPOINT_PAGES = 10_000;
/** A WAL this long after a checkpoint means writes are pouring in: checkpoint again without waiting. */
const BUSY_WAL_PAGES = 1_000;

/** While checkpoints keep failing, repeat the alarm this often (the first failure is logged at once). */
const ALARM_REPEAT_MS = 60_000;

export interface CheckpointStats {
  runs: number;
  failures: number;
  /** Failures since the last checkpoint that succeeded. */
  failing: number;
  lastLogPages: number;
}

export interface Checkpointer {
  /** Stop the worker (on shutdown, before the final TRUNCATE checkpoint and close). */
  stop(): Promise<void>;
  /** Checkpoints run and failures seen, for logs and metrics. */
  stats(): CheckpointStats;
}

/** Size of the WAL file beside `file` (0 when there is none). */
export function walBytes(file: string): number {
  try {
    return statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
}

export function startCheckpointer(
  sqlite: Database,
  file: string,
  intervalMs: number,
  log: Logger,
  /** A checkpoint failed for a storage reason (an error carrying SQLite's code). */
  onStorageFailure: (err: Error) => void,
): Checkpointer {
  sqlite.run(`PRAGMA wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  const url = URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
  // `smol`: a small heap is all this loop needs (about 2 MB of resident memory less than the default).
  const worker = new Worker(url, { smol: true });
  const counts: CheckpointStats = { runs: 0, failures: 0, failing: 0, lastLogPages: 0 };
  let alarmedAt = Number.NEGATIVE_INFINITY;
  const failed = (message: string, code?: string) => {
    counts.failures++;
    counts.failing++;
    if (code) onStorageFailure(Object.assign(new Error(message), { code }));
    const now = performance.now();
    if (counts.failing > 1 && now - alarmedAt < ALARM_REPEAT_MS) return;
    alarmedAt = now;
    log.error(
      { message, code, consecutiveFailures: counts.failing, walBytes: walBytes(file) },
      "WAL checkpoints failing: the WAL grows with every write until one succeeds",
    );
  };
  let stopped: (() => void) | undefined;
  worker.onmessage = (event: MessageEvent) => {
    const data = event.data as {
      checkpoint?: { log: number };
      error?: string;
      code?: string;
      stopped?: boolean;
    };
    if (data.checkpoint) {
      counts.runs++;
      counts.lastLogPages = data.checkpoint.log;
      if (counts.failing > 0) {
        log.info({ failures: counts.failing, walBytes: walBytes(file) }, "WAL checkpoints succeed again");
        counts.failing = 0;
      }
    } else if (data.error) failed(data.error, data.code);
    else if (data.stopped) stopped?.();
  };
  worker.onerror = (event) => failed(event.message);
  worker.unref();
  worker.postMessage({ file, intervalMs, busyPages: BUSY_WAL_PAGES });
  return {
    stats: () => ({ ...counts }),
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          worker.terminate();
          URL.revokeObjectURL(url);
          resolve();
        };
        // A worker that does not answer (it died, or is mid-checkpoint past the deadline) is terminated.
        const timer = setTimeout(done, 2_000);
        stopped = done;
        worker.postMessage({ stop: true });
      }),
  };
}
