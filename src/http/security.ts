/**
 * Secure defaults on every response, errors included: no sniffing, no framing, no referrer, a CSP that allows
 * nothing for JSON answers (the docs page widens it for itself), HSTS when the request came over TLS, and no
 * `X-Powered-By` (neither Bun nor Elysia sends one; a test keeps it that way).
 * CORS comes from an allow-list (CORS_ORIGINS) and never reflects an arbitrary origin; credentials (cookies)
 * are never allowed: the API authenticates with the Authorization header, which needs none.
 */
import { Elysia } from "elysia";
import { clientOf } from "./client-ip.ts";
import { addVary } from "./vary.ts";

const baseHeaders = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "cross-origin-opener-policy": "same-origin",
  "permissions-policy": "interest-cohort=()",
} as const;

/**
 * HSTS only when the client reached us over TLS: directly (an https URL) or, as a trusted proxy says in
 * X-Forwarded-Proto, at the proxy (clientPlugin resolves that; register it first).
 */
export const securityHeaders = () =>
  new Elysia({ name: "quire/security-headers" }).onRequest(({ set, request }) => {
    Object.assign(set.headers, baseHeaders);
    if (clientOf(request).https) {
      set.headers["strict-transport-security"] = "max-age=31536000; includeSubDomains";
    }
  });

const EXPOSED = "ETag, X-Request-Id, Retry-After, RateLimit, RateLimit-Policy";
const preflightHeaders = {
  "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
  "access-control-allow-headers": "Authorization, Content-Type, If-None-Match, X-Request-Id, Last-Event-ID",
  "access-control-max-age": "600",
} as const;

/**
 * CORS for the configured origins; no plugin (so no CORS headers at all) when the list is empty.
 * Hand-written rather than @elysiajs/cors, which marks every answer `Vary: *` under a wildcard (so browsers
 * never reuse an ETag'd answer) and answers preflights from an onRequest hook, skipping the access log and
 * the in-flight metric. Here:
 * - `*`: `Access-Control-Allow-Origin: *` on every answer, the same for everyone, so no Vary at all.
 * - a list: the request's Origin echoed only when listed, and `Vary: Origin` on every answer, granted or not
 *   (a cache must not hand one origin's answer, or a no-Origin answer, to another).
 * - Preflights (`OPTIONS` on any path) are a route: 204, with the allowed methods and headers for a granted
 *   origin. Credentials are never allowed.
 */
export function corsPlugin(origins: readonly string[]) {
  if (origins.length === 0) return new Elysia({ name: "quire/cors-off" });
  const anyOrigin = origins.includes("*");
  const listed = new Set(origins);
  const granted = (origin: string | null) =>
    anyOrigin ? "*" : origin !== null && listed.has(origin) ? origin : undefined;
  const preflight = ({
    request,
    set,
  }: {
    request: Request;
    set: { status?: number | string; headers: Record<string, unknown> };
  }) => {
    if (granted(request.headers.get("origin")) && request.headers.has("access-control-request-method"))
      Object.assign(set.headers, preflightHeaders);
    set.status = 204;
    return "";
  };
  return new Elysia({ name: "quire/cors", seed: origins })
    .onRequest(({ request, set }) => {
      if (!anyOrigin) addVary(set.headers, "Origin");
      const origin = granted(request.headers.get("origin"));
      if (origin === undefined) return;
      set.headers["access-control-allow-origin"] = origin;
      set.headers["access-control-expose-headers"] = EXPOSED;
    })
    .options("/", preflight, { detail: { hide: true } })
    .options("/*", preflight, { detail: { hide: true } });
}
