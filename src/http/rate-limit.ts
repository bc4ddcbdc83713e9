/**
 * Rate limits. Model:
 * - GCRA (src/lib/gcra.ts) per key, policies of "q requests per minute" (per hour for "email" and "export"), a rested key
 *   may burst q at once.
 * - Every request counts against its client IP (IPv6: its /64; see client-ip.ts for X-Forwarded-For), before
 *   routing, parsing or authentication: "ip", RATE_LIMIT_IP_PER_MINUTE.
 * - Authenticated requests also count against the user (from the auth macro): "user",
 *   RATE_LIMIT_USER_PER_MINUTE, so one account cannot spread a flood over many addresses.
 * - Login, registration and refresh carry a stricter per-IP bucket each (the `rateLimit` macro):
 *   "login" / "register" / "refresh", RATE_LIMIT_AUTH_PER_MINUTE. Password guessing is bounded by it (account
 *   deletion checks a password too, and counts as a login). Password-reset requests ("password-reset") and
 *   one-time account tokens (reset confirmations and email verifications, "account-token") have theirs.
 * - Emails a request makes Quire send are also limited per recipient: "email" (per hour,
 *   RATE_LIMIT_EMAIL_PER_ADDRESS_PER_HOUR), keyed by a hash of the address (reset requests: the limiter never
 *   holds addresses) or by the account (verification links asked for again). The same for known and unknown addresses: a 429 says
 *   nothing about whether an account exists.
 * - Data exports read a whole account each: "export" (per hour, RATE_LIMIT_EXPORTS_PER_HOUR), per account.
 * - State lives in the context's RateLimiter (src/lib/rate-limiter.ts): in process, a SegmentedLru of
 *   RATE_LIMIT_MAX_KEYS entries, bounded, that a flood of fresh keys cannot flush.
 * - Every response carries the IETF headers (draft-ietf-httpapi-ratelimit-headers-11), one item per policy
 *   that applied: `RateLimit-Policy: "ip";q=600;w=60` and `RateLimit: "ip";r=599;t=1`. Refusals are 429 in
 *   the error envelope with `Retry-After` (seconds, never earlier than the `t` of the refusing policy).
 * In-process state: several instances behind one balancer each enforce their own limits.
 */
import { Elysia } from "elysia";
import type { AppContext } from "../context.ts";
import { AppError } from "../errors.ts";
import type { Decision, Policy } from "../lib/rate-limiter.ts";
import { clientOf } from "./client-ip.ts";

export type StrictPolicy = "login" | "register" | "refresh" | "password-reset" | "account-token";
export type PolicyName = StrictPolicy | "ip" | "user" | "email" | "export";
type Headers = Record<string, string | number>;

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

const QUOTA = {
  ip: "RATE_LIMIT_IP_PER_MINUTE",
  user: "RATE_LIMIT_USER_PER_MINUTE",
  login: "RATE_LIMIT_AUTH_PER_MINUTE",
  register: "RATE_LIMIT_AUTH_PER_MINUTE",
  refresh: "RATE_LIMIT_AUTH_PER_MINUTE",
  "password-reset": "RATE_LIMIT_AUTH_PER_MINUTE",
  "account-token": "RATE_LIMIT_AUTH_PER_MINUTE",
  email: "RATE_LIMIT_EMAIL_PER_ADDRESS_PER_HOUR",
  export: "RATE_LIMIT_EXPORTS_PER_HOUR",
} as const;

/** A policy with what is constant about its headers, built once per config. */
interface Bound extends Policy {
  /** Its item in RateLimit-Policy. */
  item: string;
  /** Its key prefix in the limiter. */
  prefix: string;
  /** `"name";r=`, the start of its item in RateLimit. */
  ratePrefix: string;
}

function bindPolicies(config: AppContext["config"]): Record<PolicyName, Bound> {
  const bind = (name: PolicyName): Bound => {
    const quota = config[QUOTA[name]];
    const windowMs = name === "email" || name === "export" ? HOUR_MS : MINUTE_MS;
    return {
      name,
      quota,
      windowMs,
      item: `"${name}";q=${quota};w=${seconds(windowMs)}`,
      prefix: `${name}:`,
      ratePrefix: `"${name}";r=`,
    };
  };
  return {
    ip: bind("ip"),
    user: bind("user"),
    login: bind("login"),
    register: bind("register"),
    refresh: bind("refresh"),
    "password-reset": bind("password-reset"),
    "account-token": bind("account-token"),
    email: bind("email"),
    export: bind("export"),
  };
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

function append(headers: Headers, name: string, item: string): void {
  const existing = headers[name];
  headers[name] = existing === undefined || existing === "" ? item : `${existing}, ${item}`;
}

function report(headers: Headers, policy: Bound, d: Decision): void {
  append(headers, "ratelimit-policy", policy.item);
  const t = d.allowed ? seconds(d.resetMs) : seconds(d.retryAfterMs);
  append(headers, "ratelimit", `${policy.ratePrefix}${d.remaining};t=${t}`);
}

/**
 * `limit(set, policy, key)`: count one request against `key` under the named policy, add the headers, and
 * throw 429 if refused; a no-op when rate limiting is off. Synchronous when the limiter answers synchronously
 * (in process). The policies and their constant header items are built once, here.
 */
export function requestLimiter(ctx: AppContext) {
  const enabled = ctx.config.RATE_LIMIT_ENABLED;
  const policies = bindPolicies(ctx.config);
  return (set: { headers: Headers }, policyName: PolicyName, key: string): void | Promise<void> => {
    if (!enabled) return;
    const policy = policies[policyName];
    const decision = ctx.rateLimits.hit(policy.prefix + key, policy);
    if (decision instanceof Promise) return decision.then((d) => enforce(set, policy, d));
    enforce(set, policy, decision);
  };
}

function enforce(set: { headers: Headers }, policy: Bound, decision: Decision): void {
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
export const rateLimitPlugin = (ctx: AppContext) => {
  const limit = requestLimiter(ctx);
  if (!ctx.config.RATE_LIMIT_ENABLED) return new Elysia({ name: "quire/rate-limit-off" });
  return new Elysia({ name: "quire/rate-limit" }).onRequest(({ request, set }) =>
    limit(set, "ip", clientOf(request).key),
  );
};

/** `{ rateLimit: "login" }` on a route: its stricter per-IP bucket (after validation, before the handler). */
export const rateLimitMacro = (ctx: AppContext) => {
  const limit = requestLimiter(ctx);
  return new Elysia({ name: "quire/rate-limit-macro" }).macro({
    rateLimit: (policy: StrictPolicy) => ({
      beforeHandle: ({ request, set }) => limit(set, policy, clientOf(request).key),
    }),
  });
};
