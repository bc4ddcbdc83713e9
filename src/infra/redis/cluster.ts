/**
 * Cluster mode: the components that must be shared by every node, on one Redis or Valkey server (REDIS_URL).
 * context.ts builds this when REDIS_URL is set and puts its parts on the AppContext:
 *
 *   part         replaces (single node)            here
 *   bus          nothing (events stay in process)  ClusterBus: replication, acknowledgements, trust (bus.ts)
 *   history      MemoryTopicLog                    RedisTopicLog: positions, streams, fan-out (history.ts)
 *   rateLimits   MemoryRateLimiter                 RedisRateLimiter: GCRA on the server (rate-limiter.ts)
 *   caps         MemoryConnectionCaps              RedisConnectionCaps: counts over the members (caps.ts)
 *
 * and job workers are woken across nodes through the bus. One subscriber connection carries the events,
 * the realtime messages and this node's own channel (heartbeat echoes, acknowledgements), so a heartbeat's
 * echo vouches for all of them.
 */

import { randomBytes } from "node:crypto";
import type { ClusterNode, ClusterStats } from "../../lib/cluster.ts";
import type { CapLimits } from "../../lib/connection-caps.ts";
import type { Logger } from "../../lib/logger.ts";
import type { RateLimiter } from "../../lib/rate-limiter.ts";
import { ClusterBus, HEARTBEAT_MS } from "./bus.ts";
import { RedisConnectionCaps } from "./caps.ts";
import { RedisTopicLog } from "./history.ts";
import { RedisLink } from "./link.ts";
import { RedisRateLimiter } from "./rate-limiter.ts";

export interface RedisClusterOptions<E> {
  url: string;
  /** Prefix of every key and channel (several deployments may share one server). */
  prefix: string;
  log: Logger;
  /** A member serves requests; a client (a CLI command) only publishes its writes. */
  member: boolean;
  commandTimeoutMs: number;
  history: { perTopic: number; ttlMs: number };
  caps: CapLimits;
  /** What decides while Redis is unreachable. */
  fallbackLimiter: RateLimiter;
  /** Apply events another node committed; this node may have missed events; wake the job workers here. */
  apply(events: E[]): void | Promise<void>;
  missed(): Promise<void>;
  wake(): void;
}

export interface RedisCluster<E> extends ClusterNode {
  readonly bus: ClusterBus<E>;
  readonly history: RedisTopicLog;
  readonly rateLimits: RedisRateLimiter;
  readonly caps: RedisConnectionCaps;
  /** Connect and subscribe, waiting at most the command timeout (then carrying on, degraded). */
  start(): Promise<void>;
}

export function openRedisCluster<E>(options: RedisClusterOptions<E>): RedisCluster<E> {
  const log = options.log;
  const nodeId = `${options.member ? "n" : "c"}-${randomBytes(6).toString("hex")}`;
  const link = new RedisLink({
    url: options.url,
    name: `${options.prefix}${nodeId}`,
    log,
    commandTimeoutMs: options.commandTimeoutMs,
  });
  const bus = new ClusterBus<E>({
    nodeId,
    link,
    prefix: options.prefix,
    log,
    member: options.member,
    apply: options.apply,
    missed: options.missed,
    wake: options.wake,
  });
  const history = new RedisTopicLog({ link, prefix: options.prefix, log, ...options.history });
  const caps = new RedisConnectionCaps(link, options.prefix, bus.nodeId, options.caps);
  const rateLimits = new RedisRateLimiter(link, options.prefix, options.fallbackLimiter);
  let firstSubscription: (() => void) | undefined;
  let upkeep: Timer | undefined;

  const subscribed = async () => {
    await Promise.all([bus.subscribed(), options.member ? history.subscribed() : undefined]);
    if (options.member) await caps.resync(true);
    firstSubscription?.();
  };

  return {
    nodeId: bus.nodeId,
    bus,
    history,
    rateLimits,
    caps,
    async start() {
      const ready = new Promise<void>((resolve) => {
        firstSubscription = resolve;
      });
      link.subscribe({
        channels: options.member ? [...bus.channels, history.channel] : bus.channels,
        onMessage(channel, message) {
          if (channel === history.channel) history.received(message);
          else bus.received(channel, message);
        },
        onSubscribed: () => void subscribed().catch((err) => log.error({ err }, "cluster: resync failed")),
        onLost() {
          bus.lostFeed();
          history.lostFeed();
        },
      });
      bus.start();
      // Once Redis answers again: report realtime topics whose appends failed, re-publish this node's counts.
      upkeep = setInterval(() => {
        if (!link.up) return;
        history.reachable();
        if (options.member) void caps.resync();
      }, HEARTBEAT_MS);
      upkeep.unref();
      await Promise.race([ready, Bun.sleep(options.commandTimeoutMs)]);
      if (!link.subscribed) log.warn("cluster: Redis is not reachable yet; serving degraded until it is");
    },
    state: () => (link.up && link.subscribed ? "ok" : "degraded"),
    stats: (): ClusterStats => ({ members: bus.members, ...bus.stats }),
    trusted: () => bus.trusted(),
    async close() {
      clearInterval(upkeep);
      await bus.stop();
      link.close();
    },
  };
}
