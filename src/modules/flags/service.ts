/**
 * Feature flags: stored in SQLite, cached in memory, overridable from the environment.
 *
 * Every request that writes asks the maintenance flag, so reads come from a per-context cache: refreshed at
 * once by this process's PATCH, and re-read from the database at most every CACHE_MS so that a change made
 * by another process (a CLI, a second instance) is seen within seconds.
 */
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { AppContext } from "../../context.ts";
import { flags } from "../../db/schema.ts";
import { AppError, notFound } from "../../errors.ts";
import { perOwner } from "../../lib/memo.ts";
import { type AdminActor, auditAdmin } from "../jobs/audit.ts";
import { type FlagName, flagDefinitions, flagNames, isFlagName, overrideVar } from "./registry.ts";

const CACHE_MS = 5_000;

interface Stored {
  enabled: boolean;
  percentage: number;
  updatedAt: number;
}

export interface FlagView {
  name: FlagName;
  description: string;
  perUser: boolean;
  /** The effective switch (environment override, else database, else default). */
  enabled: boolean;
  /** Share of users (0–100) who get a per-user flag; always 100 for global flags. */
  percentage: number;
  source: "env" | "database" | "default";
  /** The `QUIRE_FLAG_<NAME>` value, when set. */
  override: "on" | "off" | null;
  updatedAt: string | null;
}

class FlagStore {
  #rows = new Map<string, Stored>();
  #loadedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly ctx: AppContext) {}

  rows(): Map<string, Stored> {
    if (performance.now() - this.#loadedAt > CACHE_MS) this.reload();
    return this.#rows;
  }

  reload(): void {
    const rows = this.ctx.db.select().from(flags).all();
    this.#rows = new Map(rows.map((r) => [r.name, r]));
    this.#loadedAt = performance.now();
  }
}

const stores = perOwner((ctx: AppContext) => new FlagStore(ctx));

function overrideOf(ctx: AppContext, name: FlagName): "on" | "off" | null {
  const value = (ctx.config as unknown as Record<string, string>)[overrideVar(name)];
  return value === "on" || value === "off" ? value : null;
}

function viewOf(ctx: AppContext, name: FlagName): FlagView {
  const def = flagDefinitions[name];
  const stored = stores(ctx).rows().get(name);
  const override = overrideOf(ctx, name);
  const percentage = def.perUser ? (stored?.percentage ?? 100) : 100;
  return {
    name,
    description: def.description,
    perUser: def.perUser,
    enabled: override ? override === "on" : (stored?.enabled ?? def.default),
    percentage: override ? 100 : percentage,
    source: override ? "env" : stored ? "database" : "default",
    override,
    updatedAt: stored ? new Date(stored.updatedAt).toISOString() : null,
  };
}

/**
 * The user's bucket 0–99 for a flag: the first 4 bytes of sha256("name:userId") mod 100. Stable across
 * restarts and processes, and independent between flags (a user early in one rollout is not early in all).
 */
export function rolloutBucket(name: string, userId: number): number {
  return createHash("sha256").update(`${name}:${userId}`).digest().readUInt32BE(0) % 100;
}

/**
 * Whether a flag is on, for this user when it is a per-user flag. Anonymous callers get a per-user flag only
 * when it is rolled out to everyone (100%).
 */
export function isFlagEnabled(ctx: AppContext, name: FlagName, userId?: number): boolean {
  const flag = viewOf(ctx, name);
  if (!flag.enabled) return false;
  if (flag.percentage >= 100) return true;
  if (flag.percentage <= 0 || userId === undefined) return false;
  return rolloutBucket(name, userId) < flag.percentage;
}

export function listFlags(ctx: AppContext): { flags: FlagView[] } {
  return { flags: flagNames.map((name) => viewOf(ctx, name)) };
}

export function setFlag(
  ctx: AppContext,
  name: string,
  input: { enabled: boolean; percentage?: number },
  actor?: AdminActor,
): { flag: FlagView } {
  if (!isFlagName(name)) throw notFound("flag");
  if (input.percentage !== undefined && input.percentage !== 100 && !flagDefinitions[name].perUser)
    throw new AppError(422, { percentage: ["applies only to per-user flags"] });
  const now = ctx.clock.now();
  const percentage = input.percentage ?? stores(ctx).rows().get(name)?.percentage ?? 100;
  ctx.db.transaction((tx) => {
    tx.insert(flags)
      .values({ name, enabled: input.enabled, percentage, updatedAt: now })
      .onConflictDoUpdate({
        target: flags.name,
        set: { enabled: sql`excluded.enabled`, percentage: sql`excluded.percentage`, updatedAt: now },
      })
      .run();
    auditAdmin(
      ctx,
      "flag.changed",
      actor,
      { type: "flag", id: name },
      { enabled: input.enabled, percentage },
      tx,
    );
  });
  stores(ctx).reload();
  ctx.log.info({ flag: name, enabled: input.enabled, percentage }, "feature flag changed");
  return { flag: viewOf(ctx, name) };
}
