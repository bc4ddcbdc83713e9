/**
 * Rate limits. Model:
 * - GCRA (src/lib/gcra.ts) per key, policies of "q requests per minute", a rested key may burst q at once.
 * - Every request counts against its client IP (IPv6: its /64; see client-ip.ts for X-Forwarded-For), before
 *   routing, parsing or authentication: "ip", RATE_LIMIT_IP_PER_MINUTE.
 * - Authenticated requests also count against the user (from the auth macro): "user",
 *   RATE_LIMIT_USER_PER_MINUTE, so one account cannot spread a flood over many addresses.
 * - Login, registration and refresh carry a stricter per-IP bucket each (the `rateLimit` macro):
 *   "login" / "register" / "refresh", RATE_LIMIT_AUTH_PER_MINUTE. Password guessing is bounded by it.
 * - State lives in a SegmentedLru of RATE_LIMIT_MAX_KEYS entries: bounded memory, and a flood of fresh
 *   keys cannot evict the state of keys that keep coming back (an attacker's own, included).
 * - Every response carries the IETF headers (draft-ietf-httpapi-ratelimit-headers-11), one item per policy
 *   that applied: `RateLimit-Policy: "ip";q=600;w=60` and `RateLimit: "ip";r=599;t=1`. Refusals are 429 in
 *   the error envelope with `Retry-After` (seconds, never earlier than the `t` of the refusing policy).
 * In-process state: several instances behind one balancer each enforce their own limits.
 */
import { Elysia } from "elysia";
import type { AppContext } from "../context.ts";
import { AppError } from "../errors.ts";
import { type Decision, Gcra, type Policy } from "../lib/gcra.ts";
import { perOwner } from "../lib/memo.ts";
import { SegmentedLru } from "../lib/segmented-lru.ts";
import { clientOf } from "./client-ip.ts";

export type StrictPolicy = "login" | "register" | "refresh";
type Headers = Record<string, string | number>;

const MINUTE_MS = 60_000;
/** Share of the store for keys seen once; the rest protects keys seen again (the usual SLRU split). */
const PROBATION_SHARE = 0.2;

const limiterOf = perOwner((ctx: AppContext) => {
  const c = ctx.config;
  const policy = (name: string, quota: number): Policy => ({ name, quota, windowMs: MINUTE_MS });
  const store = new SegmentedLru<number>({
    probationMax: Math.ceil(c.RATE_LIMIT_MAX_KEYS * PROBATION_SHARE),
    protectedMax: Math.floor(c.RATE_LIMIT_MAX_KEYS * (1 - PROBATION_SHARE)),
  });
  return {
    enabled: c.RATE_LIMIT_ENABLED,
    store,
    gcra: new Gcra(store, ctx.clock),
    policies: {
      ip: policy("ip", c.RATE_LIMIT_IP_PER_MINUTE),
      user: policy("user", c.RATE_LIMIT_USER_PER_MINUTE),
      login: policy("login", c.RATE_LIMIT_AUTH_PER_MINUTE),
      register: policy("register", c.RATE_LIMIT_AUTH_PER_MINUTE),
      refresh: policy("refresh", c.RATE_LIMIT_AUTH_PER_MINUTE),
    },
  };
});

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

function append(headers: Headers, name: string, item: string): void {
  const existing = headers[name];
  headers[name] = existing === undefined || existing === "" ? item : `${existing}, ${item}`;
}

function report(headers: Headers, policy: Policy, d: Decision): void {
  append(headers, "ratelimit-policy", `"${policy.name}";q=${policy.quota};w=${seconds(policy.windowMs)}`);
  const t = d.allowed ? seconds(d.resetMs) : seconds(d.retryAfterMs);
  append(headers, "ratelimit", `"${policy.name}";r=${d.remaining};t=${t}`);
}

/**
 * Count one request against `key` under the named policy, add the headers, and throw 429 if refused.
 * A no-op when rate limiting is off.
 */
export function limitRequest(
  ctx: AppContext,
  set: { headers: Headers },
  policyName: StrictPolicy | "ip" | "user",
  key: string,
): void {
  const limiter = limiterOf(ctx);
  if (!limiter.enabled) return;
  const policy = limiter.policies[policyName];
  const decision = limiter.gcra.hit(`${policy.name}:${key}`, policy);
  report(set.headers, policy, decision);
  if (decision.allowed) return;
  const wait = Math.max(1, seconds(decision.retryAfterMs));
  throw new AppError(
    429,
    { rate: [`limit exceeded, retry in ${wait} ${wait === 1 ? "second" : "seconds"}`] },
    { "retry-after": String(wait) },
  );
}

/** The per-IP limit on every request. Register once, right after the client and errors plugins. */
export const rateLimitPlugin = (ctx: AppContext) =>
  new Elysia({ name: "quire/rate-limit" }).onRequest(({ request, set }) => {
    limitRequest(ctx, set, "ip", clientOf(ctx, request).key);
  });

/** `{ rateLimit: "login" }` on a route: its stricter per-IP bucket (after validation, before the handler). */
export const rateLimitMacro = (ctx: AppContext) =>
  new Elysia({ name: "quire/rate-limit-macro" }).macro({
    rateLimit: (policy: StrictPolicy) => ({
      beforeHandle({ request, set }) {
        limitRequest(ctx, set, policy, clientOf(ctx, request).key);
      },
    }),
  });
