/**
 * A node's connections to Redis (or Valkey): one for commands, one for subscriptions, over Bun's built-in
 * RedisClient (no dependency; Redis ≥ 7 or Valkey, `redis://` or `rediss://` for TLS).
 *
 * Why not Bun's own reconnection: a RedisClient that reconnects does not subscribe again (oven-sh/bun#33450
 * was closed unmerged), and re-subscribing on the same client adds a second listener. So both connections
 * are opened without `autoReconnect` and this link reconnects them itself: the command connection on the
 * next command after it dropped, the subscriber connection as a fresh client each time, subscribed to every
 * channel before `onSubscribed` runs. Between `onLost` and the next `onSubscribed` messages are missed: the
 * caller treats that as a gap (src/infra/redis/bus.ts, history.ts).
 *
 * Commands fail fast while the server is unreachable (no offline queue: a request must not wait for Redis
 * to come back) and time out after `commandTimeoutMs` (a hung server closes the connection, which is then
 * opened again). Scripts run by EVALSHA with their SHA-1 computed here, and are sent whole only when the
 * server does not know them (after a restart).
 */

import { createHash } from "node:crypto";
import { RedisClient } from "bun";
import type { Logger } from "../../lib/logger.ts";

export interface Script {
  readonly source: string;
  readonly sha: string;
}

export const script = (source: string): Script => ({
  source,
  sha: createHash("sha1").update(source).digest("hex"),
});

export interface Subscription {
  channels: string[];
  onMessage(channel: string, message: string): void;
  /** Subscribed to every channel (again): messages flow from now on. Runs after every (re)subscription. */
  onSubscribed(): void;
  /** The subscriber connection is gone: what is published until the next `onSubscribed` is missed here. */
  onLost(): void;
}

export interface LinkOptions {
  url: string;
  /** CLIENT SETNAME of the connections (`<name>:cmd`, `<name>:sub`), so CLIENT LIST shows whose they are. */
  name?: string;
  log: Logger;
  /** Longest wait for one command's reply (and for a connection). */
  commandTimeoutMs: number;
}

/** Redis could not be reached (or did not answer in time): the caller degrades, it never fails a request. */
export class RedisUnavailable extends Error {
  override name = "RedisUnavailable";
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2_000;

export class RedisLink {
  readonly #options: LinkOptions;
  readonly #cmd: RedisClient;
  #connecting: Promise<void> | undefined;
  /** performance.now() of the last reply: what "Redis was fine until" means. */
  lastOk = Number.NEGATIVE_INFINITY;
  #up = false;
  #sub: RedisClient | undefined;
  #subscription: Subscription | undefined;
  #subRetryMs = RETRY_MIN_MS;
  #subTimer: Timer | undefined;
  #closed = false;
  #loggedDown = false;

  constructor(options: LinkOptions) {
    this.#options = options;
    this.#cmd = this.#client();
    this.#cmd.onclose = () => this.#down("the command connection closed");
  }

  #client(): RedisClient {
    return new RedisClient(this.#options.url, {
      autoReconnect: false,
      enableOfflineQueue: false,
      connectionTimeout: this.#options.commandTimeoutMs,
    });
  }

  /** Commands reach the server right now (as far as the last one tells). */
  get up(): boolean {
    return this.#up && this.#cmd.connected;
  }

  /** The subscriber connection is subscribed to every channel. */
  get subscribed(): boolean {
    return this.#sub !== undefined;
  }

  /** Connect the command connection; rejects with RedisUnavailable if the server cannot be reached. */
  connect(): Promise<void> {
    if (this.#cmd.connected) return Promise.resolve();
    this.#connecting ??= this.#timed(this.#open(this.#cmd, "cmd"))
      .then(() => {
        this.#markUp();
      })
      .finally(() => {
        this.#connecting = undefined;
      });
    return this.#connecting;
  }

  /** One command; rejects with RedisUnavailable when the server is unreachable or slow. */
  async command<T = unknown>(name: string, args: string[]): Promise<T> {
    if (this.#closed) throw new RedisUnavailable("closed");
    try {
      if (!this.#cmd.connected) await this.connect();
      const reply = (await this.#timed(this.#cmd.send(name, args))) as T;
      this.#markUp();
      return reply;
    } catch (err) {
      // A reply that is an error (a script's, a wrong type) came from a server that is up.
      if ((err as { code?: string }).code === "ERR_REDIS_SERVER_ERROR") {
        this.#markUp();
        throw err;
      }
      if (err instanceof RedisUnavailable && this.#cmd.connected) this.#cmd.close(); // hung: start over
      this.#down(String((err as Error).message));
      throw err instanceof RedisUnavailable ? err : new RedisUnavailable(String((err as Error).message));
    }
  }

  /** Run a script by its SHA-1, sending its source only if the server does not have it. */
  async eval<T = unknown>(s: Script, keys: readonly string[], args: readonly string[]): Promise<T> {
    const rest = [String(keys.length), ...keys, ...args];
    try {
      return await this.command<T>("EVALSHA", [s.sha, ...rest]);
    } catch (err) {
      if (!String((err as Error).message).startsWith("NOSCRIPT")) throw err;
      return this.command<T>("EVAL", [s.source, ...rest]);
    }
  }

  /** Keep one subscriber connection subscribed to `subscription.channels`, reconnecting as needed. */
  subscribe(subscription: Subscription): void {
    this.#subscription = subscription;
    void this.#openSubscriber();
  }

  /** Drop the subscriber connection and open a new one (it stopped delivering: a half-open socket). */
  resubscribe(): void {
    this.#sub?.close();
  }

  async #openSubscriber(): Promise<void> {
    const subscription = this.#subscription;
    if (!subscription || this.#closed) return;
    const client = this.#client();
    try {
      await this.#timed(this.#open(client, "sub"));
      client.onclose = () => this.#subscriberLost(client);
      await this.#timed(
        client.subscribe(subscription.channels, (message, channel) =>
          subscription.onMessage(channel, message),
        ),
      );
      if (this.#closed || !client.connected) throw new RedisUnavailable("closed while subscribing");
    } catch (err) {
      client.onclose = null;
      client.close();
      if (this.#closed) return;
      this.#down(String((err as Error).message));
      this.#subTimer = setTimeout(() => void this.#openSubscriber(), this.#subRetryMs);
      this.#subRetryMs = Math.min(RETRY_MAX_MS, this.#subRetryMs * 2);
      return;
    }
    this.#sub = client;
    this.#subRetryMs = RETRY_MIN_MS;
    subscription.onSubscribed();
  }

  async #open(client: RedisClient, role: string): Promise<void> {
    await client.connect();
    const name = this.#options.name?.replace(/[^\w:.-]/g, "_");
    if (name) await client.send("CLIENT", ["SETNAME", `${name}:${role}`]);
  }

  #subscriberLost(client: RedisClient): void {
    if (client !== this.#sub) return;
    this.#sub = undefined;
    if (this.#closed) return;
    this.#options.log.warn("redis: the subscriber connection was lost; reconnecting");
    this.#subscription?.onLost();
    this.#subTimer = setTimeout(() => void this.#openSubscriber(), RETRY_MIN_MS);
  }

  #markUp(): void {
    this.lastOk = performance.now();
    if (!this.#up && this.#loggedDown) this.#options.log.info("redis: reachable again");
    this.#up = true;
    this.#loggedDown = false;
  }

  #down(reason: string): void {
    this.#up = false;
    if (this.#closed || this.#loggedDown) return;
    this.#loggedDown = true;
    this.#options.log.warn({ reason }, "redis: unreachable; serving from the database, degraded");
  }

  /** `promise`, or RedisUnavailable after the command timeout. */
  #timed<T>(promise: Promise<T>): Promise<T> {
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RedisUnavailable(`no answer within ${this.#options.commandTimeoutMs} ms`)),
        this.#options.commandTimeoutMs,
      );
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#subTimer);
    const sub = this.#sub;
    this.#sub = undefined;
    sub?.close();
    this.#cmd.onclose = null;
    this.#cmd.close();
  }
}
