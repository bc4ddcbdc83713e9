/**
 * Feature flags: stored by the store, read from an in-memory snapshot, overridable from the environment.
 *
 * Every write request asks the maintenance flag, so reads never touch the store: the FlagStore keeps a
 * snapshot, loaded before the server starts, replaced after every change on every node (the
 * `flag.changed` event, src/listeners.ts), and re-read at most every REFRESH_MS in the background, so that
 * a change made by another process without an event (a CLI on the same database) is seen within seconds.
 */
import { createHash } from "node:crypto";
import type { AppContext } from "../../context.ts";
import { AppError, notFound } from "../../errors.ts";
import type { DomainEvent } from "../../events.ts";
import type { Logger } from "../../lib/logger.ts";
import type { FlagRow } from "../../store/operations.ts";
import type { Store } from "../../store/store.ts";
import { type AdminActor, auditAdmin } from "../audit/service.ts";
import { type FlagName, flagDefinitions, flagNames, isFlagName, overrideVar } from "./registry.ts";

const REFRESH_MS = 5_000;

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

export class FlagStore {
  #rows = new Map<string, FlagRow>();
  #loadedAt = Number.NEGATIVE_INFINITY;
  #loading: Promise<void> | undefined;
  #started = 0;
  #applied = 0;

  constructor(
    private readonly store: Store,
    private readonly config: AppContext["config"],
    private readonly log: Logger,
  ) {}

  /** Read every stored flag (awaited once before serving; then on changes and in the background). */
  async load(): Promise<void> {
    // Loads may overlap (a change on another node while the background refresh runs): a read that started
    // earlier never replaces one that started later.
    const started = ++this.#started;
    const rows = await this.store.read.flags.all();
    if (started < this.#applied) return;
    this.#applied = started;
    this.#rows = new Map(rows.map((r) => [r.name, r]));
    this.#loadedAt = performance.now();
  }

  /** The snapshot, refreshed in the background when it is older than REFRESH_MS (never waited for). */
  rows(): Map<string, FlagRow> {
    if (performance.now() - this.#loadedAt > REFRESH_MS && !this.#loading) {
      this.#loading = this.load()
        .catch((err) => this.log.warn({ err }, "feature flags: refresh failed, keeping the last ones"))
        .finally(() => {
          this.#loading = undefined;
        });
    }
    return this.#rows;
  }

  /**
   * A committed change (on any node): read the flags again. The promise is awaited before the change is
   * acknowledged (on a cluster, by every node), so the next request anywhere sees it.
   */
  onEvent(event: DomainEvent): Promise<void> | undefined {
    if (event.type !== "flag.changed") return undefined;
    return this.load().catch((err) => this.log.warn({ err }, "feature flags: re-read failed"));
  }

  view(name: FlagName): FlagView {
    const def = flagDefinitions[name];
    const stored = this.rows().get(name);
    const override = overrideOf(this.config, name);
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
   * Whether a flag is on, for this user when it is a per-user flag. Anonymous callers get a per-user flag
   * only when it is rolled out to everyone (100%).
   */
  isEnabled(name: FlagName, userId?: number): boolean {
    const flag = this.view(name);
    if (!flag.enabled) return false;
    if (flag.percentage >= 100) return true;
    if (flag.percentage <= 0 || userId === undefined) return false;
    return rolloutBucket(name, userId) < flag.percentage;
  }
}

function overrideOf(config: AppContext["config"], name: FlagName): "on" | "off" | null {
  const value = (config as unknown as Record<string, string>)[overrideVar(name)];
  return value === "on" || value === "off" ? value : null;
}

/**
 * The user's bucket 0–99 for a flag: the first 4 bytes of sha256("name:userId") mod 100. Stable across
 * restarts and processes, and independent between flags (a user early in one rollout is not early in all).
 */
export function rolloutBucket(name: string, userId: number): number {
  return createHash("sha256").update(`${name}:${userId}`).digest().readUInt32BE(0) % 100;
}

/** Whether a flag is on (for this user, when per-user): `ctx.flags.isEnabled`, for callers that hold ctx. */
export const isFlagEnabled = (ctx: AppContext, name: FlagName, userId?: number) =>
  ctx.flags.isEnabled(name, userId);

export function listFlags(ctx: AppContext): { flags: FlagView[] } {
  return { flags: flagNames.map((name) => ctx.flags.view(name)) };
}

export async function setFlag(
  ctx: AppContext,
  name: string,
  input: { enabled: boolean; percentage?: number },
  actor?: AdminActor,
): Promise<{ flag: FlagView }> {
  if (!isFlagName(name)) throw notFound("flag");
  if (input.percentage !== undefined && input.percentage !== 100 && !flagDefinitions[name].perUser)
    throw new AppError(422, { percentage: ["applies only to per-user flags"] });
  const now = ctx.clock.now();
  const percentage = input.percentage ?? ctx.flags.rows().get(name)?.percentage ?? 100;
  await ctx.store.write(async (tx) => {
    await tx.flags.upsert({ name, enabled: input.enabled, percentage, updatedAt: now });
    await auditAdmin(
      ctx,
      tx,
      "flag.changed",
      actor,
      { type: "flag", id: name },
      { enabled: input.enabled, percentage },
    );
    await tx.emit({ type: "flag.changed", name });
  });
  // The event asked for a refresh; this answer must already show the change.
  await ctx.flags.load();
  ctx.log.info({ flag: name, enabled: input.enabled, percentage }, "feature flag changed");
  return { flag: ctx.flags.view(name) };
}
