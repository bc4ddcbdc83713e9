/**
 * Realtime connection caps over the whole cluster (a ConnectionCaps, src/lib/connection-caps.ts): each node
 * counts its connections per address and per user in its own hash (`<prefix>conns:<node>`, expiring with
 * its membership), and one script sums the member nodes' counts and, if under the limits, counts the new
 * connection, atomically. A node that dies takes its counts with it when its membership runs out.
 *
 * This node's own counts are also kept in memory: they are the truth it re-publishes after Redis comes back
 * (releases may have been lost), and what it enforces alone, per node, while Redis is unreachable.
 */
import {
  type CapLimits,
  type CapVerdict,
  type ConnectionCaps,
  MemoryConnectionCaps,
} from "../../lib/connection-caps.ts";
import { TTL_MS } from "./bus.ts";
import type { RedisLink } from "./link.ts";
import { CAPS, RELEASE, SYNC_COUNTS } from "./scripts.ts";

const fields = (ip: string, userId: number | undefined) => [
  `ip:${ip}`,
  userId === undefined ? "" : `user:${userId}`,
];

export class RedisConnectionCaps implements ConnectionCaps {
  readonly #local: MemoryConnectionCaps;
  readonly #nodesKey: string;
  readonly #countsKey: string;
  /** Some count change did not reach Redis: re-publish this node's counts when it answers again. */
  #dirty = false;

  constructor(
    private readonly link: RedisLink,
    private readonly prefix: string,
    private readonly nodeId: string,
    private readonly limits: CapLimits,
  ) {
    this.#local = new MemoryConnectionCaps(limits);
    this.#nodesKey = `${prefix}nodes`;
    this.#countsKey = `${prefix}conns:${nodeId}`;
  }

  check(ip: string, userId: number | undefined): CapVerdict | Promise<CapVerdict> {
    return this.#ask(ip, userId, false);
  }

  acquire(ip: string, userId: number | undefined): CapVerdict | Promise<CapVerdict> {
    return this.#ask(ip, userId, true);
  }

  #ask(ip: string, userId: number | undefined, acquire: boolean): CapVerdict | Promise<CapVerdict> {
    const local = () => (acquire ? this.#local.acquire(ip, userId) : this.#local.check(ip, userId));
    if (!this.link.up) {
      if (acquire) this.#dirty = true;
      return local();
    }
    const [ipField, userField] = fields(ip, userId);
    const args = [`${this.prefix}conns:`, this.nodeId, ipField!, userField!];
    const limits = [
      String(this.limits.perIp),
      String(this.limits.perUser),
      acquire ? "1" : "0",
      String(TTL_MS),
    ];
    return this.link.eval<CapVerdict>(CAPS, [this.#nodesKey, this.#countsKey], [...args, ...limits]).then(
      (verdict) => {
        // Counted in the cluster: count it here too, whatever this node alone would have said.
        if (verdict === "ok" && acquire) this.#local.force(ip, userId);
        return verdict;
      },
      () => {
        if (acquire) this.#dirty = true;
        return local();
      },
    );
  }

  release(ip: string, userId: number | undefined): void {
    this.#local.release(ip, userId);
    const [ipField, userField] = fields(ip, userId);
    const args = userField ? [ipField!, userField] : [ipField!];
    if (!this.link.up) {
      this.#dirty = true;
      return;
    }
    this.link.eval(RELEASE, [this.#countsKey], args).catch(() => {
      this.#dirty = true;
    });
  }

  /** After a gap or an outage: replace this node's counts in Redis with the ones kept here. */
  async resync(force = false): Promise<void> {
    if (!force && !this.#dirty) return;
    this.#dirty = false;
    const flat = [...this.#local.counts()].flatMap(([field, n]) => [field, String(n)]);
    await this.link.eval(SYNC_COUNTS, [this.#countsKey], [String(TTL_MS), ...flat]).catch(() => {
      this.#dirty = true;
    });
  }
}
