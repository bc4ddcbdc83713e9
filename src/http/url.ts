/**
 * The request URL, parsed once per request by a helper that never throws. Bun builds `request.url` from the
 * request line and the Host header as the client sent them, so an authority-form target
 * (`CONNECT 127.0.0.1:80`), a Host of `[::1` or a port above 65535 give a string `new URL()` refuses. A hook
 * that parsed it itself threw, and so did the error handler reporting that, ending in a bare 500 and a stack
 * on stderr. Every hook that needs the path asks here instead, and urlGuard answers such requests 400 in the
 * envelope before anything else looks at them.
 */
import { Elysia } from "elysia";
import { AppError } from "../errors.ts";
import { stateOf } from "./request-state.ts";

/** The request's URL, or undefined when it cannot be parsed. Parsed at most once per request. */
export function requestUrl(request: Request): URL | undefined {
  const state = stateOf(request);
  if (!state) return URL.parse(request.url) ?? undefined;
  if (state.url === undefined) state.url = URL.parse(request.url);
  return state.url ?? undefined;
}

/**
 * The part of a request URL that decides whether it parses: up to the first "/" after the scheme's "//".
 * The WHATWG parser only fails on a scheme, host or port; the authority ends at the first of "/", "?", "#"
 * or "\\", which all lie in this prefix, and whatever follows (path, query, fragment) never fails to parse.
 */
function originOf(url: string): string {
  const end = url.indexOf("/", url.indexOf("//") + 2);
  return end < 0 ? url : url.slice(0, end);
}

/** Distinct origins remembered per app: a server answers to a handful of host names. */
const MAX_ORIGINS = 256;

/** The request's path (`/api/tags`), or "" when its URL cannot be parsed (urlGuard refuses those). */
export const requestPath = (request: Request): string => requestUrl(request)?.pathname ?? "";

export const invalidUrl = () => new AppError(400, { request: ["has an invalid URL"] });

/** The request's URL for handlers, which urlGuard only lets parseable requests reach; 400 otherwise. */
export function urlOf(request: Request): URL {
  const url = requestUrl(request);
  if (!url) throw invalidUrl();
  return url;
}

/**
 * Refuses a request whose URL does not parse, or carries a NUL (%00) in its path. Register after the plugins that see every request (request id,
 * access log, metrics, security headers) and before any that reads the path. Thrown, not returned: Elysia
 * skips the afterResponse hooks (access log, metrics) for a value an onRequest hook returns.
 */
export const urlGuard = () => {
  // Validity by origin (see originOf): a request from a known host name costs a lookup, not a URL parse.
  const known = new Map<string, boolean>();
  return new Elysia({ name: "quire/url-guard" }).onRequest(({ request }) => {
    const origin = originOf(request.url);
    let valid = known.get(origin);
    if (valid === undefined) {
      valid = requestUrl(request) !== undefined;
      if (known.size >= MAX_ORIGINS) known.clear();
      known.set(origin, valid);
    }
    if (!valid) throw invalidUrl();
    // A NUL in the path is never a slug or a name, and Postgres refuses it in any text. (Filters in the query
    // are answered: a NUL matches nothing, see listArticles.)
    const query = request.url.indexOf("?");
    const path = query < 0 ? request.url : request.url.slice(0, query);
    if (path.includes("%00"))
      throw new AppError(400, { request: ["must not contain NUL (%00) in its path"] });
  });
};
