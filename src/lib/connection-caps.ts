/**
 * Realtime connection caps per client address and per user: how many connections each may hold open. An
 * interface, so that a cluster counts them over every node (src/infra/redis/caps.ts) while a single
 * process counts its own (MemoryConnectionCaps below).
 *
 * Two steps, as for any admission that is decided before the work it admits: `check` before the upgrade
 * or the stream (refuse early, with a status), `acquire` when the connection is registered (count it, or
 * refuse if another connection took the last place meanwhile), `release` when it closes. Every `acquire`
 * that returned "ok" is released exactly once.
 */

export interface CapLimits {
  perIp: number;
  perUser: number;
}

/** "ok", or the cap that refused. */
export type CapVerdict = "ok" | "ip" | "user";

export interface ConnectionCaps {
  check(ip: string, userId: number | undefined): CapVerdict | Promise<CapVerdict>;
  acquire(ip: string, userId: number | undefined): CapVerdict | Promise<CapVerdict>;
  release(ip: string, userId: number | undefined): void;
}

const bump = <K>(map: Map<K, number>, key: K, by: number) => {
  const n = (map.get(key) ?? 0) + by;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
};

/** Counts of this process's connections. */
export class MemoryConnectionCaps implements ConnectionCaps {
  readonly #perIp = new Map<string, number>();
  readonly #perUser = new Map<number, number>();

  constructor(private readonly limits: CapLimits) {}

  check(ip: string, userId: number | undefined): CapVerdict {
    if ((this.#perIp.get(ip) ?? 0) >= this.limits.perIp) return "ip";
    if (userId !== undefined && (this.#perUser.get(userId) ?? 0) >= this.limits.perUser) return "user";
    return "ok";
  }

  acquire(ip: string, userId: number | undefined): CapVerdict {
    const verdict = this.check(ip, userId);
    if (verdict === "ok") this.force(ip, userId);
    return verdict;
  }

  /** Count a connection that was admitted elsewhere (a cluster's shared counts), whatever the local counts say. */
  force(ip: string, userId: number | undefined): void {
    bump(this.#perIp, ip, 1);
    if (userId !== undefined) bump(this.#perUser, userId, 1);
  }

  release(ip: string, userId: number | undefined): void {
    bump(this.#perIp, ip, -1);
    if (userId !== undefined) bump(this.#perUser, userId, -1);
  }

  /** Every count, as `ip:<address>` and `user:<id>` fields (a cluster node re-publishes them). */
  counts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [ip, n] of this.#perIp) out.set(`ip:${ip}`, n);
    for (const [user, n] of this.#perUser) out.set(`user:${user}`, n);
    return out;
  }
}
