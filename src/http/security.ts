/**
 * Secure defaults on every response, errors included: no sniffing, no framing, no referrer, a CSP that allows
 * nothing for JSON answers (the docs page widens it for itself), HSTS when the request came over TLS, and no
 * `X-Powered-By` (neither Bun nor Elysia sends one; a test keeps it that way).
 * CORS comes from an allow-list (CORS_ORIGINS) and never reflects an arbitrary origin; credentials (cookies)
 * are never allowed: the API authenticates with the Authorization header, which needs none.
 */
import { cors } from "@elysiajs/cors";
import { Elysia } from "elysia";
import type { AppContext } from "../context.ts";
import { clientOf } from "./client-ip.ts";

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
export const securityHeaders = (ctx: AppContext) =>
  new Elysia({ name: "quire/security-headers" }).onRequest(({ set, request }) => {
    Object.assign(set.headers, baseHeaders);
    if (clientOf(request).https) {
      set.headers["strict-transport-security"] = "max-age=31536000; includeSubDomains";
    }
  });

/** CORS for the configured origins; no plugin (so no CORS headers at all) when the list is empty. */
export function corsPlugin(origins: readonly string[]) {
  if (origins.length === 0) return new Elysia({ name: "quire/cors-off" });
  return cors({
    origin: origins.includes("*") ? "*" : [...origins],
    methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    allowedHeaders: ["Authorization", "Content-Type", "If-None-Match", "X-Request-Id", "Last-Event-ID"],
    exposeHeaders: ["ETag", "X-Request-Id", "Retry-After", "RateLimit", "RateLimit-Policy"],
    credentials: false,
    maxAge: 600,
  });
}
