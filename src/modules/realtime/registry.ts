/**
 * Who is connected to this node: the connections (by session, for revocation), the total cap, and the
 * per-address and per-user caps through the context's ConnectionCaps (this process's counts, or the whole
 * cluster's: src/infra/redis/caps.ts). Admission is two steps, as the caps are: `checkAdmission` before the
 * upgrade or stream, `register` once the connection exists (a cluster's answer may take a round trip, so it
 * may be a promise; a connection that closes meanwhile gives its place back).
 */
import { AppError } from "../../errors.ts";
import type { CapVerdict, ConnectionCaps } from "../../lib/connection-caps.ts";
import type { Conn } from "./connection.ts";

function refusalOf(verdict: CapVerdict): AppError | undefined {
  if (verdict === "ip") return new AppError(429, { realtime: ["too many connections from this address"] });
  if (verdict === "user") return new AppError(429, { realtime: ["too many connections for this user"] });
  return undefined;
}

export class ConnectionRegistry {
  readonly conns = new Set<Conn>();
  /** Connections whose caps are being acquired. */
  readonly #admitting = new Set<Conn>();
  readonly #bySession = new Map<string, Set<Conn>>();
  shuttingDown = false;

  constructor(
    private readonly caps: ConnectionCaps,
    private readonly maxConnections: number,
  ) {}

  /** Refuse a new connection when a limit is already reached. */
  checkAdmission(
    ip: string,
    userId: number | undefined,
  ): AppError | undefined | Promise<AppError | undefined> {
    const local = this.#localRefusal();
    if (local) return local;
    const verdict = this.caps.check(ip, userId);
    return verdict instanceof Promise ? verdict.then(refusalOf) : refusalOf(verdict);
  }

  #localRefusal(): AppError | undefined {
    if (this.shuttingDown)
      return new AppError(503, { realtime: ["is shutting down"] }, { "retry-after": "5" });
    if (this.conns.size + this.#admitting.size >= this.maxConnections)
      return new AppError(503, { realtime: ["is at capacity"] }, { "retry-after": "5" });
    return undefined;
  }

  /** Count a connection in; false (and nothing counted) when a limit was reached meanwhile. */
  register(conn: Conn): boolean | Promise<boolean> {
    if (this.#localRefusal()) return false;
    const verdict = this.caps.acquire(conn.ip, conn.viewer?.id);
    if (!(verdict instanceof Promise)) return verdict === "ok" && this.#add(conn);
    this.#admitting.add(conn);
    return verdict.then(
      (v) => {
        const waiting = this.#admitting.delete(conn);
        if (v !== "ok") return false;
        // Closed (or shutting down) while the caps were asked: give its place back.
        if (!waiting || this.shuttingDown) {
          this.caps.release(conn.ip, conn.viewer?.id);
          return false;
        }
        return this.#add(conn);
      },
      (err) => {
        this.#admitting.delete(conn);
        throw err;
      },
    );
  }

  #add(conn: Conn): true {
    this.conns.add(conn);
    const sid = conn.viewer?.sessionId;
    if (sid !== undefined) {
      const set = this.#bySession.get(sid);
      if (set) set.add(conn);
      else this.#bySession.set(sid, new Set([conn]));
    }
    return true;
  }

  /** A registered connection (not one still being admitted). */
  has(conn: Conn): boolean {
    return this.conns.has(conn);
  }

  /** Forget a connection and give its place back; false if it was not registered (or still admitting). */
  remove(conn: Conn): boolean {
    if (this.#admitting.delete(conn)) return false;
    if (!this.conns.delete(conn)) return false;
    this.caps.release(conn.ip, conn.viewer?.id);
    const sid = conn.viewer?.sessionId;
    const set = sid === undefined ? undefined : this.#bySession.get(sid);
    if (set?.delete(conn) && set.size === 0) this.#bySession.delete(sid!);
    return true;
  }

  /** The open connections of a session. */
  ofSession(sid: string): Conn[] {
    return [...(this.#bySession.get(sid) ?? [])];
  }

  /** Sessions with an open connection here. */
  sessions(): string[] {
    return [...this.#bySession.keys()];
  }
}
