/**
 * HTTP caching: a strong ETag on every successful GET with a JSON body, `If-None-Match` answered with a 304
 * and no body, and a Cache-Control per route. The model:
 *
 *   request                                                   Cache-Control
 *   any write (POST, PUT, PATCH, DELETE)                      no-store
 *   GET account data: /api/user, /api/users…, /api/auth…,     no-store        (emails, tokens, sessions:
 *     /api/sessions…, /api/admin…                                              never kept by any cache)
 *   GET other /api/… with an Authorization header             private, no-cache
 *   GET other /api/… without one                              public, no-cache
 *
 * `no-cache` means "keep it, but ask before each reuse": a reader always sees the latest write (the
 * RealWorld suite reads right after every write) and an unchanged answer costs a 304. Anonymous answers
 * are the same for everyone, so shared caches may keep them (`public`); answers to a signed-in reader carry
 * their `favorited`/`following` flags and stay in that reader's browser (`private`). `Vary: Authorization`
 * tells caches the two differ. The ETag hashes the exact bytes sent (src/lib/cached-json.ts), so a
 * reader whose flags happen to match the anonymous answer revalidates it correctly too.
 *
 * Bodies served from the content caches (CachedJson) already carry their ETag: `reply()` sends them as
 * they are, skipping serialization. Every other GET body is serialized here, after Elysia has validated
 * and cleaned it against the route's response schema.
 */
import { Elysia } from "elysia";
import { CachedJson, strongEtag } from "../lib/cached-json.ts";
import { textResponse } from "./compression.ts";
import { addVary } from "./vary.ts";

const JSON_TYPE = "application/json; charset=utf-8";

const accountData = /^\/api\/(?:users?|auth|sessions|admin)(?:\/|$)/;

/** The Cache-Control for a request, or undefined outside the API (docs and assets set their own). */
export function cacheControlFor(method: string, path: string, hasAuthorization: boolean): string | undefined {
  if (!path.startsWith("/api/")) return undefined;
  if (method !== "GET" && method !== "HEAD") return "no-store";
  if (accountData.test(path)) return "no-store";
  return hasAuthorization ? "private, no-cache" : "public, no-cache";
}

/** The path of a request URL without parsing the whole URL (this runs on every request). */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  return query < 0 ? url.slice(start) : url.slice(start, query);
}

/** Whether an If-None-Match header matches `etag` (weak comparison, as RFC 9110 §13.1.2 requires). */
export function matchesIfNoneMatch(header: string | null, etag: string): boolean {
  if (header === null) return false;
  for (const part of header.split(",")) {
    const tag = part.trim();
    if (tag === "*" || tag === etag || (tag.startsWith("W/") && tag.slice(2) === etag)) return true;
  }
  return false;
}

/** The response headers Elysia is collecting for this request (security, CORS, Cache-Control, …). */
interface PendingHeaders {
  headers: Record<string, unknown>;
}

/**
 * A GET handler's answer: a cached body goes out as is (or as a 304), anything else is left to Elysia and
 * the hook below. The headers gathered so far go into the one Response built here, and the pending set is
 * emptied so Elysia does not copy them into a second Response.
 */
export function reply(request: Request, set: PendingHeaders, body: CachedJson): Response;
/**
 * Typed as the plain body so that an async handler's `Promise<body>` matches its response schema (a Response
 * in its place is what the schema's body serializes to, so Elysia accepts it at run time).
 */
export function reply<T>(request: Request, set: PendingHeaders, body: CachedJson | T): T;
export function reply<T>(request: Request, set: PendingHeaders, body: CachedJson | T): Response | T {
  if (!(body instanceof CachedJson)) return body;
  const headers = set.headers as Record<string, string>;
  headers.etag = body.etag;
  set.headers = {};
  if (matchesIfNoneMatch(request.headers.get("if-none-match"), body.etag)) {
    return new Response(null, { status: 304, headers });
  }
  headers["content-type"] = JSON_TYPE;
  return textResponse(request, headers, body.json);
}

const isPlainJson = (value: unknown): value is object => {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === Array.prototype || proto === null;
};

export const httpCaching = () =>
  new Elysia({ name: "quire/http-caching" })
    .onRequest(({ request, set }) => {
      const path = pathOf(request.url);
      const policy = cacheControlFor(request.method, path, request.headers.has("authorization"));
      if (policy === undefined) return;
      set.headers["cache-control"] = policy;
      // Anonymous and signed-in readers get different answers (flags, `private`); no-store is never reused.
      if (policy !== "no-store") addVary(set.headers, "Authorization");
    })
    .mapResponse({ as: "global" }, serializeGetBody);

/**
 * Serialize a GET handler's plain JSON value with its ETag (or answer 304). Elysia decides from a hook's
 * source text whether to await it (a `return f(` or the word for awaiting anywhere, comments included), and
 * an awaited hook makes every route's handler asynchronous; this one never returns a promise, so it is
 * written not to look like it does. Elysia's not-found path sends whatever this hook returns, even
 * undefined, hence errors are handed back unchanged.
 */
function serializeGetBody(context: {
  request: Request;
  responseValue: unknown;
  set: { status?: number | string; headers: Record<string, unknown> };
}): Response | undefined {
  const { request, responseValue, set } = context;
  if ((context as { code?: unknown }).code !== undefined) return responseValue as Response;
  if (request.method !== "GET" || (set.status !== undefined && set.status !== 200)) return;
  if (!isPlainJson(responseValue)) return;
  const json = JSON.stringify(responseValue);
  const etag = strongEtag(json);
  set.headers.etag = etag;
  if (matchesIfNoneMatch(request.headers.get("if-none-match"), etag)) {
    return new Response(null, { status: 304 });
  }
  // The one Response, built (and compressed) here from the text at hand; the pending headers go into it
  // and are emptied, so Elysia does not copy them into a second Response.
  const headers = set.headers as Record<string, string>;
  headers["content-type"] = JSON_TYPE;
  set.headers = {};
  const response = textResponse(request, headers, json);
  return response;
}
