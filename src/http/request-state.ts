/**
 * What the plugins know about one request, in one object carried by the Request itself (under a symbol no
 * other code can name), from the first hook to the last: its id and arrival time, its client and URL once
 * something asked for them, the viewer authentication found, and two flags for the metrics and compression
 * plugins. Created by the request-log plugin (src/http/request-log.ts), which runs first.
 *
 * Why not a WeakMap per plugin (as before): each insertion into a WeakMap keyed by a fresh object costs about
 * half a microsecond in JavaScriptCore and makes the garbage collector's weak-table work grow with the
 * request rate; six of them were ~10% of a cached read. A property on the Request dies with it, and the
 * state stays request-scoped: nothing is shared between requests or apps.
 */
import type { ClientInfo } from "../lib/client-address.ts";

const STATE = Symbol("quire.request");

/** Resolves the client of a request on first use (src/http/client-ip.ts); one per app. */
export interface ClientResolver {
  resolve(request: Request): ClientInfo;
  /** Some proxy is trusted, so X-Forwarded-Proto may say the request came over TLS. */
  readonly proxies: boolean;
}

export interface RequestState {
  /** The request id (X-Request-Id). */
  readonly id: string;
  /** performance.now() when the request arrived. */
  readonly startedAt: number;
  /** Resolved on first use (clientOf), by the resolver the client plugin attached. */
  client: ClientInfo | undefined;
  clients: ClientResolver | undefined;
  /** The parsed URL (null: it does not parse), on first use (src/http/url.ts). */
  url: URL | null | undefined;
  /** Counted as in flight by the metrics plugin (upgrades are not). */
  inFlight: boolean;
  /** The answer was already compressed (or deliberately not) where its text was at hand. */
  settled: boolean;
  /** The authenticated viewer (src/http/auth.ts), typed there. */
  viewer: unknown;
}

/** Start the state of a request (the request-log plugin, first of all). */
export function beginRequest(request: Request, id: string, startedAt: number): RequestState {
  const state: RequestState = {
    id,
    startedAt,
    client: undefined,
    clients: undefined,
    url: undefined,
    inFlight: false,
    settled: false,
    viewer: undefined,
  };
  (request as unknown as Record<symbol, RequestState>)[STATE] = state;
  return state;
}

/** The state of a request the app has seen; undefined for any other Request. */
export function stateOf(request: Request): RequestState | undefined {
  return (request as unknown as Record<symbol, RequestState | undefined>)[STATE];
}
