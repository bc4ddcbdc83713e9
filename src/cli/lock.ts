/**
 * The serve lock: `<database>.serve.lock` says a server is using the database, so `quire restore` can refuse
 * to swap the file under it. SQLite offers no way to ask "is another connection open?" (an idle server holds
 * no lock), so the server writes its pid and host there and touches the file every few seconds. A lock is
 * live if its file was touched recently, or if it names a process of this host that still runs. A server
 * killed with -9 leaves a stale lock behind: it is ignored once old enough (or named a dead local pid).
 */
import { existsSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";

const HEARTBEAT_MS = 5_000;
/** Three missed heartbeats: the server is gone (or frozen, which restore must not race either). */
export const STALE_AFTER_MS = 3 * HEARTBEAT_MS;

export const lockPath = (database: string) => `${database}.serve.lock`;

interface LockFile {
  pid: number;
  hostname: string;
  startedAt: string;
}

/** Write the lock and keep it fresh; returns the release function (call on shutdown). */
export function holdServeLock(database: string): () => void {
  if (database === ":memory:") return () => {};
  const path = lockPath(database);
  const body: LockFile = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
  writeFileSync(path, `${JSON.stringify(body)}\n`, { mode: 0o600 });
  const timer = setInterval(() => {
    const now = new Date();
    try {
      utimesSync(path, now, now);
    } catch {
      // Removed by someone: write it again, it is our claim.
      writeFileSync(path, `${JSON.stringify(body)}\n`, { mode: 0o600 });
    }
  }, HEARTBEAT_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    try {
      const current = JSON.parse(readFileSync(path, "utf8")) as LockFile;
      if (current.pid === process.pid && current.hostname === body.hostname) rmSync(path, { force: true });
    } catch {
      // Already gone.
    }
  };
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

/** Why the database must be considered in use, or undefined if no live server holds it. */
export function liveServeLock(database: string, now = Date.now()): string | undefined {
  const path = lockPath(database);
  if (!existsSync(path)) return undefined;
  let lock: Partial<LockFile> = {};
  try {
    lock = JSON.parse(readFileSync(path, "utf8")) as LockFile;
  } catch {
    // Unreadable: judge by its age alone.
  }
  const local = lock.hostname === hostname();
  // A local pid that no longer runs is conclusive; our own pid means a lock left by an earlier container.
  if (local && typeof lock.pid === "number" && (lock.pid === process.pid || !processRuns(lock.pid)))
    return undefined;
  // Otherwise (another host or container, or a running local pid that may be a reused one): its heartbeat.
  const age = now - statSync(path).mtimeMs;
  if (age > STALE_AFTER_MS) return undefined;
  return `a server (pid ${lock.pid ?? "?"} on ${lock.hostname ?? "?"}) is using it: stop it first (lock ${path}, touched ${Math.round(age / 1000)} s ago)`;
}
