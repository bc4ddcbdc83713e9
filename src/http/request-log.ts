/**
 * Request ids and the access log: one JSON line per request with its id, method, route template, status and
 * duration. The route is the template (`/api/articles/:slug`), never the raw path, so lines group by
 * endpoint and usernames or slugs stay out of the access log; requests refused before routing (404, rate
 * limit, maintenance) are logged as `(unmatched)`.
 *
 * Request id model: a client (or the proxy in front) may send `X-Request-Id` to correlate its own logs with
 * ours; it is used only if it is short and plain (≤ 128 of [A-Za-z0-9._-]), so it cannot forge log lines or
 * smuggle markup. Otherwise one is generated. Either way it is returned as `X-Request-Id` and appears in
 * the access line and in the error log of that request (src/http/errors.ts).
 *
 * Register first in createApp: its onRequest must run before anything that can refuse the request.
 */
import { Elysia, StatusMap } from "elysia";
import type { AppContext } from "../context.ts";
import { beginRequest, stateOf } from "./request-state.ts";

const SANE_ID = /^[A-Za-z0-9._-]{1,128}$/;
export const UNMATCHED_ROUTE = "(unmatched)";
/** Probes and scrapes arrive every few seconds: logged at debug, so info shows what clients do. */
const QUIET_ROUTES = new Set(["/health/live", "/health/ready", "/metrics"]);

export interface RequestInfo {
  readonly id: string;
  /** performance.now() when the request arrived. */
  readonly startedAt: number;
}

/** The id and start time of a request seen by the request-log plugin (undefined for any other request). */
export const requestInfo = (request: Request): RequestInfo | undefined => stateOf(request);

export function requestIdFrom(header: string | null): string {
  return header !== null && SANE_ID.test(header) ? header : crypto.randomUUID();
}

/** The status a response really went out with: a returned Response carries its own. */
export function responseStatus(set: { status?: number | string }, responseValue: unknown): number {
  if (responseValue instanceof Response) return responseValue.status;
  const s = set.status;
  if (typeof s === "number") return s;
  return (s !== undefined && (StatusMap as Record<string, number>)[s]) || 200;
}

export const requestLogPlugin = (ctx: AppContext) => {
  const log = ctx.log.child({ component: "http" });
  return new Elysia({ name: "quire/request-log" })
    .onRequest(({ request, set }) => {
      const id = requestIdFrom(request.headers.get("x-request-id"));
      beginRequest(request, id, performance.now());
      set.headers["x-request-id"] = id;
    })
    .onAfterResponse({ as: "global" }, ({ request, route, set, responseValue }) => {
      const info = stateOf(request);
      const level = QUIET_ROUTES.has(route) ? "debug" : "info";
      if (!info || !log.isLevelEnabled(level)) return;
      const status = responseStatus(set, responseValue);
      log[level](
        {
          reqId: info.id,
          method: request.method,
          route: route || UNMATCHED_ROUTE,
          status,
          durationMs: Math.round((performance.now() - info.startedAt) * 100) / 100,
        },
        "request",
      );
    });
};
