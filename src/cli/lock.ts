/**
 * The serve lock: `<database>.serve.lock` says a server is using the database, so a second `quire serve`
 * refuses to start on it (each would cache data the other changes) and `quire restore` refuses to swap the
 * file under it. `backup` and `admin` ignore it: they are safe beside a server (WAL, busy_timeout).
 *
 * SQLite offers no way to ask "is another connection open?" (an idle server holds no lock), so the server
 * claims the file with an exclusive create, writes its pid and host there and touches the file every few
 * seconds. A lock is live if its file was touched recently, or if it names a process of this host that
 * still runs. A server killed with -9 leaves a stale lock behind: it is taken over once old enough (or
 * naming a dead local pid, or this very pid: a container restarted with the same pid 1).
 *
 * Only databases that are one local file have a lock (`lockable`); Postgres (DATABASE_URL=postgres://…) has
 * none, as `:memory:` has none.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";

const HEARTBEAT_MS = 5_000;
/** Three missed heartbeats: the server is gone (or frozen, which restore must not race either). */
export const STALE_AFTER_MS = 3 * HEARTBEAT_MS;

export const lockPath = (database: string) => `${database}.serve.lock`;

/** A database in one local file (not `:memory:`, not a `scheme://` URL) has a serve lock. */
export const lockable = (database: string) =>
  database !== ":memory:" && !/^[a-z][\w+.-]*:\/\//i.test(database);

interface LockFile {
  pid: number;
  hostname: string;
  startedAt: string;
}

/** Another server holds the database. */
export class DatabaseInUse extends Error {
  override name = "DatabaseInUse";
}

interface Holder {
  lock: Partial<LockFile>;
  ageMs: number;
  /** The file's text when judged, to tell it apart from a lock written since. */
  text: string;
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

/** The live holder of the lock at `path`; undefined when there is no lock or it is stale. */
function liveHolder(path: string, now: number): { holder?: Holder; text?: string } {
  let text: string;
  let ageMs: number;
  try {
    text = readFileSync(path, "utf8");
    ageMs = now - statSync(path).mtimeMs;
  } catch {
    return {}; // no lock
  }
  let lock: Partial<LockFile> = {};
  try {
    lock = JSON.parse(text) as LockFile;
  } catch {
    // Unreadable (a claim being written, or garbage): judge by its age alone.
  }
  const local = lock.hostname === hostname();
  // A local pid that no longer runs is conclusive; our own pid means a lock left by an earlier container.
  if (local && typeof lock.pid === "number" && (lock.pid === process.pid || !processRuns(lock.pid)))
    return { text };
  // Otherwise (another host or container, or a running local pid that may be a reused one): its heartbeat.
  if (ageMs > STALE_AFTER_MS) return { text };
  return { holder: { lock, ageMs, text }, text };
}

const who = (h: Holder) => `pid ${h.lock.pid ?? "?"} on ${h.lock.hostname ?? "?"}`;
const where = (h: Holder, path: string) => `lock ${path}, touched ${Math.round(h.ageMs / 1000)} s ago`;

/** Why the database must be considered in use, or undefined if no live server holds it. */
export function liveServeLock(database: string, now = Date.now()): string | undefined {
  const path = lockPath(database);
  const { holder } = liveHolder(path, now);
  return holder && `a server (${who(holder)}) is using it: stop it first (${where(holder, path)})`;
}

/**
 * Claim the database for this server and keep the claim fresh; returns the release function (call on
 * shutdown). Throws DatabaseInUse while another live server holds it. The claim is an exclusive create, so
 * of two servers starting at once one wins; a stale lock is moved aside first, and only if what was moved
 * is the lock judged stale (not a claim another starter has just written).
 */
export function claimServeLock(database: string, onLost: (message: string) => void = () => {}): () => void {
  if (!lockable(database)) return () => {};
  const path = lockPath(database);
  const body = `${JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() } satisfies LockFile)}\n`;
  mkdirSync(dirname(path), { recursive: true }); // a first start: the database is created right after
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      writeFileSync(path, body, { flag: "wx", mode: 0o600 });
      return heartbeat(path, body, onLost);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const { holder, text } = liveHolder(path, Date.now());
    if (holder)
      throw new DatabaseInUse(
        `${database} is already being served by ${who(holder)} (${where(holder, path)})`,
      );
    if (text === undefined) continue; // gone meanwhile: claim again
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      continue; // another starter moved it first
    }
    const moved = readFileSync(aside, "utf8");
    if (moved === text) rmSync(aside, { force: true });
    else renameSync(aside, path); // a fresh claim, not the stale one: put it back and judge again
  }
  throw new DatabaseInUse(`${database}: could not claim ${path}; is another server starting?`);
}

function heartbeat(path: string, body: string, onLost: (message: string) => void): () => void {
  let lost = false;
  const timer = setInterval(() => {
    const now = new Date();
    try {
      if (readFileSync(path, "utf8") !== body) {
        // Taken over (this process was frozen longer than STALE_AFTER_MS): say so once, never fight.
        if (!lost) onLost(`another process took over ${path}: two servers may now share the database`);
        lost = true;
        return;
      }
      utimesSync(path, now, now);
    } catch {
      // Removed by someone: write it again, it is our claim (and never crash the server over it).
      try {
        writeFileSync(path, body, { mode: 0o600 });
      } catch {}
    }
  }, HEARTBEAT_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    try {
      if (readFileSync(path, "utf8") === body) rmSync(path, { force: true });
    } catch {
      // Already gone.
    }
  };
}
