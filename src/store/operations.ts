/**
 * Repositories of the operational data: the job queue's table, webhook endpoints and their delivery log,
 * feature flags, and housekeeping purges. Timestamps are epoch milliseconds from the app's clock, never the
 * engine's, so tests can move time.
 */

export type { JobCounts, JobRow, JobState, JobStore, JobTransition, NewJob } from "../lib/queue-types.ts";

import type { JobRow, JobState, JobStore } from "../lib/queue-types.ts";

/** The queue's statements (src/lib/queue.ts) and what the admin API reads. */
export interface JobsRepo extends JobStore {
  byId(id: number): Promise<JobRow | undefined>;
  /** Newest first. */
  list(
    filter: { state?: JobState; type?: string },
    page: { limit: number; offset: number },
  ): Promise<JobRow[]>;
  count(filter: { state?: JobState; type?: string }): Promise<number>;
  /**
   * Delete the jobs of `types` whose payload names the user (`payload.userId`), except running ones (their
   * handler finds the account gone and does nothing). For an account's deletion: its pending emails, and
   * finished ones whose payload still holds an address. Returns how many went.
   */
  deleteForUser(types: readonly string[], userId: number): Promise<number>;
}

export interface WebhookRow {
  id: number;
  url: string;
  events: string[];
  secret: string;
  enabled: boolean;
  createdAt: number;
}

export interface DeliveryRow {
  id: number;
  webhookId: number;
  messageId: string;
  event: string;
  attempt: number;
  statusCode: number | null;
  ok: boolean;
  error: string | null;
  durationMs: number | null;
  createdAt: number;
}

export interface WebhooksRepo {
  count(): Promise<number>;
  insert(webhook: {
    url: string;
    events: readonly string[];
    secret: string;
    now: number;
  }): Promise<WebhookRow>;
  list(page: { limit: number; offset: number }): Promise<WebhookRow[]>;
  byId(id: number): Promise<WebhookRow | undefined>;
  /** Its delivery log goes with it. */
  delete(id: number): Promise<boolean>;
  /** Ids of enabled endpoints subscribed to `event`. */
  subscribedTo(event: string): Promise<number[]>;
  recordDelivery(delivery: Omit<DeliveryRow, "id">): Promise<void>;
  /** Newest first. */
  deliveries(webhookId: number, page: { limit: number; offset: number }): Promise<DeliveryRow[]>;
  countDeliveries(webhookId: number): Promise<number>;
}

export interface FlagRow {
  name: string;
  enabled: boolean;
  percentage: number;
  updatedAt: number;
}

export interface FlagsRepo {
  /** By name (code point order). */
  all(): Promise<FlagRow[]>;
  upsert(flag: FlagRow): Promise<void>;
}

/** Housekeeping deletes, each of at most `limit` rows per call (the caller loops, yielding between). */
export interface HousekeepingRepo {
  /** Sessions expired before `now` or ended before `endedBefore` (their refresh tokens go with them). */
  purgeSessions(now: number, endedBefore: number, limit: number): Promise<number>;
  /** Expired refresh tokens, and used ones of sessions that are over. */
  purgeRefreshTokens(now: number, limit: number): Promise<number>;
  /** Done and dead jobs finished before `before`. */
  purgeJobs(before: number, limit: number): Promise<number>;
  purgeDeliveries(before: number, limit: number): Promise<number>;
  purgeAudit(before: number, limit: number): Promise<number>;
  /** Account tokens (reset, verification) that expired before `now` or were used. */
  purgeAccountTokens(now: number, limit: number): Promise<number>;
}
