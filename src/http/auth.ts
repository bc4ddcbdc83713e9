/**
 * Authentication. Token model (see src/modules/sessions/service.ts for sessions):
 * - Access tokens are JWTs signed with HS256 and nothing else: verification pins the algorithm, so `alg: none`
 *   and HS384/HS512 tokens are refused even when signed with the real secret. They carry `exp`, `iss`, `aud`,
 *   `sub` (the user id), `sid` (the session) and `typ: "access"`, and all of these are required.
 * - A verified token is accepted only while its session lives (checked on every request, cached briefly and
 *   invalidated on logout), so revocation is immediate. That is why a token may live long (JWT_TTL_SECONDS,
 *   by default as long as a session): its `exp` is capped at its session's expiry, and ending the session
 *   ends every token of it at once. A bad token is answered "is invalid", a well-signed expired one
 *   "has expired"; both 401s carry an RFC 6750 `WWW-Authenticate` challenge (src/errors.ts).
 * - Refresh tokens (src/modules/sessions/refresh.ts) are opaque `rt_…` strings, not JWTs: they fail
 *   verification here, and access tokens do not match the refresh-token format, so neither passes as the other.
 * - `Authorization: Token <jwt>` (RealWorld) and `Authorization: Bearer <jwt>` are both accepted.
 * - An authenticated request also counts against its user's rate limit (src/http/rate-limit.ts).
 *
 * Routes opt in with `{ auth: true }` (401 without a valid token), `{ optionalAuth: true }` (anonymous
 * allowed, but a token that is present must be valid) or `{ admin: true }` (401, then 403 unless the
 * permission table grants "admin:access"), and receive `viewer`.
 */
import { randomBytes } from "node:crypto";
import { Elysia } from "elysia";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { LRUCache } from "lru-cache";
import type { AppContext } from "../context.ts";
import { forbidden, unauthorized } from "../errors.ts";
import type { Role } from "../policy.ts";
import { can } from "../policy.ts";
import { limitRequest } from "./rate-limit.ts";

export interface Viewer {
  id: number;
  role: Role;
  /** Whether the account's address is verified (REQUIRE_VERIFIED_EMAIL_TO_WRITE), from the session check. */
  emailVerified: boolean;
  sessionId: string;
  /** The token the request presented, echoed in `user.token` by the current-user endpoints. */
  token: string;
}

/** The token in an Authorization header, or undefined if there is none; malformed headers are errors. */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^(?:Token|Bearer) +([A-Za-z0-9_\-.]{1,4096})$/i.exec(header.trim());
  if (!match) throw unauthorized();
  return match[1];
}

/** The viewer each request authenticated as, from the transform phase to the handler. */
const viewers = new WeakMap<Request, Viewer>();

interface VerifiedClaims {
  sub: string;
  sid: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

/**
 * Check a token's signature (HS256 only) and claims at `now`. jose checks the signature before any claim, so
 * "has expired" is only ever said of a token this server signed.
 */
async function verifyToken(
  token: string,
  key: Uint8Array,
  config: Pick<AppContext["config"], "JWT_ISSUER" | "JWT_AUDIENCE">,
  now: number,
): Promise<VerifiedClaims> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ["HS256"],
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      requiredClaims: ["exp", "iat", "sub", "sid"],
      currentDate: new Date(now),
    }));
  } catch (err) {
    throw unauthorized(err instanceof joseErrors.JWTExpired ? "has expired" : "is invalid");
  }
  const { typ, sid, sub, exp } = payload;
  if (typ !== "access" || typeof sid !== "string" || typeof sub !== "string" || typeof exp !== "number")
    throw unauthorized();
  return { sub, sid, exp };
}

export const authPlugin = (ctx: AppContext) => {
  const { config, clock } = ctx;
  const key = new TextEncoder().encode(config.JWT_SECRET);
  /**
   * Tokens whose signature and claims already verified, by their exact text. Checking an HMAC through
   * WebCrypto costs ~100 µs a request; a token's signature cannot change, so a repeat is looked up here and
   * only its expiry is checked again. The session is still checked on every request (revocation stays
   * immediate). Bounded: at worst an entry is evicted and verified again. (Elysia keeps one instance of this
   * named plugin per app, so one cache per app.)
   */
  const verified = new LRUCache<string, VerifiedClaims>({ max: 20_000 });
  return new Elysia({ name: "quire/auth", seed: config.JWT_SECRET })
    .derive({ as: "global" }, ({ set }) => ({
      /** Resolve a raw access token to its viewer, or throw 401. Shared by HTTP and WebSocket upgrades. */
      async authenticate(token: string): Promise<Viewer> {
        let claims = verified.get(token);
        if (claims && claims.exp * 1000 <= clock.now()) {
          verified.delete(token);
          throw unauthorized("has expired");
        }
        if (!claims) {
          claims = await verifyToken(token, key, config, clock.now());
          verified.set(token, claims);
        }
        const session = await ctx.sessions.check(claims.sid);
        if (!session || String(session.userId) !== claims.sub) throw unauthorized();
        // Per-user limit on top of the per-IP one: a token spread over many addresses is still one client.
        await limitRequest(ctx, set, "user", String(session.userId));
        return {
          id: session.userId,
          role: session.role,
          emailVerified: session.emailVerified,
          sessionId: claims.sid,
          token,
        };
      },
      /** Sign an access token for a session, expiring with it at the latest. */
      issueToken(userId: number, session: { id: string; expiresAt: number }): Promise<string> {
        const now = Math.floor(clock.now() / 1000);
        return (
          new SignJWT({ typ: "access", sid: session.id })
            .setProtectedHeader({ alg: "HS256", typ: "JWT" })
            .setIssuer(config.JWT_ISSUER)
            .setAudience(config.JWT_AUDIENCE)
            .setSubject(String(userId))
            // Unique per token, so a refresh never hands back a byte-identical token within the same second.
            .setJti(randomBytes(12).toString("base64url"))
            .setIssuedAt(now)
            .setExpirationTime(Math.min(now + config.JWT_TTL_SECONDS, Math.floor(session.expiresAt / 1000)))
            .sign(key)
        );
      },
    }))
    .macro({
      // Authentication runs in `transform`, before Elysia validates params and body, so an anonymous or
      // badly authenticated request gets 401 (then 403 for admin routes) rather than validation feedback.
      // `resolve` (after validation) hands the viewer found there to the handler.
      auth: {
        async transform({ headers, authenticate, request }) {
          const token = bearerToken(headers.authorization);
          if (!token) throw unauthorized("is missing");
          viewers.set(request, await authenticate(token));
        },
        resolve: ({ request }) => ({ viewer: viewers.get(request)! }),
      },
      admin: {
        async transform({ headers, authenticate, request }) {
          const token = bearerToken(headers.authorization);
          if (!token) throw unauthorized("is missing");
          const viewer = await authenticate(token);
          if (!can(viewer.role, "admin:access")) throw forbidden("admin");
          viewers.set(request, viewer);
        },
        resolve: ({ request }) => ({ viewer: viewers.get(request)! }),
      },
      optionalAuth: {
        async transform({ headers, authenticate, request }) {
          const token = bearerToken(headers.authorization);
          if (token) viewers.set(request, await authenticate(token));
        },
        resolve: ({ request }): { viewer: Viewer | undefined } => ({ viewer: viewers.get(request) }),
      },
    });
};
