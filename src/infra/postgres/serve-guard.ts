/**
 * The serve lock on Postgres (SQLite's is a lock file, src/cli/lock.ts): a server without REDIS_URL must be
 * the only one on its database, because each node caches what it reads and only a cluster tells the others
 * what changed. Every `quire serve` holds a session advisory lock on a connection of its own for as long as
 * it runs: exclusive for a single node, shared for the members of a cluster. So a second single node, a
 * cluster member beside a single node, or a single node beside a cluster, is refused before it migrates.
 *
 * Why an advisory lock rather than a heartbeat row: Postgres drops the lock the moment its connection ends,
 * so a node killed with -9 (or its host lost) frees the database at once, with no staleness window to wait
 * out and no clocks to compare. The cost is one connection per node, outside DATABASE_POOL_SIZE. A pooler in
 * transaction mode (PgBouncer's default) does not keep session locks: point `serve` at Postgres itself, or at
 * a session-mode pool.
 */
import type { SQL } from "bun";
import { openPool } from "./client.ts";

/** "quire sv" in ASCII, apart from the migrations' and the unit lane's locks. */
export const SERVE_LOCK = 0x7175697265207376n;
/** How pg_locks shows a bigint advisory key: its high and low 32 bits. */
const CLASS_ID = Number(SERVE_LOCK >> 32n);
const OBJ_ID = Number(SERVE_LOCK & 0xffffffffn);
/** While the guard's connection is down (Postgres restarting), how often to take the lock again. */
const RETRY_MS = 5_000;

/** Another server holds the database in a way this one cannot share. */
export class PostgresInUse extends Error {
  override name = "PostgresInUse";
}

export interface ServeGuardOptions {
  url: string;
  /** This node has REDIS_URL: it shares the database with the other members. */
  cluster: boolean;
  /** Said when the lock was lost with its connection and could not be taken again. */
  onLost: (message: string) => void;
}

interface Holder {
  mode: string;
  application_name: string | null;
  client_addr: string | null;
  backend_start: Date | string | null;
}

async function holders(sql: SQL): Promise<Holder[]> {
  return (await sql`
    select l.mode, a.application_name, host(a.client_addr) as client_addr, a.backend_start
    from pg_locks l join pg_stat_activity a on a.pid = l.pid
    where l.locktype = 'advisory' and l.granted and l.classid = ${CLASS_ID} and l.objid = ${OBJ_ID}
      and l.objsubid = 1 and l.pid <> pg_backend_pid()`) as Holder[];
}

function refusal(cluster: boolean, found: Holder[]): string {
  const single = found.some((h) => h.mode === "ExclusiveLock");
  const who = found
    .slice(0, 3)
    .map((h) => {
      const since = h.backend_start ? new Date(h.backend_start).toISOString() : "?";
      return `${h.client_addr ?? "a local socket"} since ${since}`;
    })
    .join(", ");
  const what = single
    ? "a Quire server without REDIS_URL is serving this database"
    : `${found.length || "other"} Quire server(s) of a cluster (REDIS_URL) are serving this database`;
  const fix = cluster
    ? "stop it, or give it the same REDIS_URL so that it joins the cluster"
    : single
      ? "two single nodes would each serve stale cached data the other changed: stop it, or set the same REDIS_URL on both to run a cluster"
      : "set the same REDIS_URL on this node to join them";
  return `${what}${who ? ` (${who})` : ""}; ${fix}`;
}

/**
 * Take the serve lock for the life of the process; resolves with its release. Throws PostgresInUse (with what
 * holds the database and what to do) when another server's lock excludes this one.
 */
export async function claimPostgresServe(options: ServeGuardOptions): Promise<() => Promise<void>> {
  const take = options.cluster ? "pg_try_advisory_lock_shared" : "pg_try_advisory_lock";
  let released = false;
  let retry: Timer | undefined;
  let sql: SQL;
  const attempt = async (): Promise<boolean> => {
    const [row] = (await sql.unsafe(`select ${take}(${SERVE_LOCK}) as ok`)) as { ok: boolean }[];
    return row?.ok === true;
  };
  const open = () =>
    openPool({
      url: options.url,
      poolSize: 1,
      idleTimeoutSeconds: 0,
      applicationName: "quire serve lock",
      onClose: () => {
        // The lock went with its connection: take it again once Postgres is back (a new connection).
        if (released || retry) return;
        retry = setInterval(() => void retake(), RETRY_MS);
      },
    });
  let retaking = false;
  const retake = async () => {
    // A connect can outlast the interval: never close an attempt still under way by starting another.
    if (retaking) return;
    retaking = true;
    try {
      await sql.close().catch(() => undefined);
      sql = open();
      if (await attempt()) {
        clearInterval(retry);
        retry = undefined;
        return;
      }
      clearInterval(retry);
      retry = undefined;
      options.onLost(
        `serve lock lost while Postgres was unreachable and now held by another server: ${refusal(options.cluster, await holders(sql))}`,
      );
    } catch {
      // Still unreachable: the next tick tries again.
    } finally {
      retaking = false;
    }
  };
  sql = open();
  try {
    if (!(await attempt())) throw new PostgresInUse(refusal(options.cluster, await holders(sql)));
  } catch (err) {
    released = true;
    await sql.close().catch(() => undefined);
    throw err;
  }
  return async () => {
    released = true;
    clearInterval(retry);
    // Closing the connection releases the lock.
    await sql.close().catch(() => undefined);
  };
}
