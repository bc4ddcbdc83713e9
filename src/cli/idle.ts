/**
 * Giving memory back when the server goes quiet. After a burst of traffic the process holds what the burst
 * left: content-cache entries past their TTL (lru-cache drops an expired entry only when it is read again)
 * and the garbage of every request, which JavaScriptCore collects only as new allocations ask for room; a
 * quiet server allocates almost nothing, so neither went away and RSS stayed at its peak.
 *
 * Every IDLE_SWEEP_MS the sweeper drops expired cache entries; the first time it finds that no request
 * arrived since its previous pass (after some did), it runs one full collection, so freed heap pages can be
 * returned to the system. A busy server is never paused by a forced collection; a quiet one pays one.
 */
import type { AppContext } from "../context.ts";
import type { TtlCache } from "../lib/cache.ts";

export const IDLE_SWEEP_MS = 15_000;

type Swept = Pick<AppContext, "caches" | "sessions" | "metrics">;

/** One pass: purge expired entries; collect if the server has been idle since the last pass after traffic. */
export function idleSweeper(ctx: Swept, collect: () => void = () => Bun.gc(true)) {
  let seen = ctx.metrics.http.arrivals();
  let busySinceCollect = false;
  return (): { purged: boolean; collected: boolean } => {
    let purged = false;
    for (const cache of Object.values(ctx.caches) as TtlCache<never, never>[])
      purged = cache.purgeStale() || purged;
    purged = ctx.sessions.cache.purgeStale() || purged;
    const now = ctx.metrics.http.arrivals();
    const idle = now === seen;
    seen = now;
    if (!idle) busySinceCollect = true;
    const collected = idle && (busySinceCollect || purged);
    if (collected) {
      busySinceCollect = false;
      collect();
    }
    return { purged, collected };
  };
}

/** Run the sweeper in the background (the timer does not keep the process alive); returns its stop. */
export function startIdleSweeper(ctx: Swept): () => void {
  const sweep = idleSweeper(ctx);
  const timer = setInterval(sweep, IDLE_SWEEP_MS);
  timer.unref();
  return () => clearInterval(timer);
}
