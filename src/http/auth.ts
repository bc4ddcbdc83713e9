/**
 * Authentication. Token model (see src/modules/sessions/service.ts for sessions):
 * - Access tokens are JWTs signed with HS256 and nothing else: verification pins the algorithm, so `alg: none`
 *   and HS384/HS512 tokens are refused even when signed with the real secret. They carry `exp`, `iss`, `aud`,
 *   `sub` (the user id), `sid` (the session) and `typ: "access"`, and all of these are required.
 * - A verified token is accepted only while its session lives (checked on every request, cached briefly and
 *   invalidated on logout), so revocation is immediate.
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
import { jwt } from "@elysiajs/jwt";
import { Elysia } from "elysia";
import { LRUCache } from "lru-cache";
import type { AppContext } from "../context.ts";
import type { Role } from "../policy.ts";
import { forbidden, unauthorized } from "../errors.ts";
import { can } from "../policy.ts";
import { limitRequest } from "./rate-limit.ts";

export interface Viewer {
  id: number;
  role: Role;
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

export const authPlugin = (ctx: AppContext) => {
  const { config, clock } = ctx;
  /**
   * Tokens whose signature and claims already verified, by their exact text. Checking an HMAC through
   * WebCrypto costs ~100 µs a request; a token's signature cannot change, so a repeat is looked up here and
   * only its expiry is checked again. The session is still checked on every request (revocation stays
   * immediate). Bounded: at worst an entry is evicted and verified again. (Elysia keeps one instance of this
   * named plugin per app, so one cache per app.)
   */
  const verified = new LRUCache<string, VerifiedClaims>({ max: 20_000 });
  return new Elysia({ name: "quire/auth", seed: config.JWT_SECRET })
    .use(
      jwt({
        name: "jwt",
        secret: config.JWT_SECRET,
        alg: "HS256",
        iss: config.JWT_ISSUER,
        aud: config.JWT_AUDIENCE,
      }),
    )
    .derive({ as: "global" }, ({ jwt, set }) => ({
      /** Resolve a raw access token to its viewer, or throw 401. Shared by HTTP and WebSocket upgrades. */
      async authenticate(token: string): Promise<Viewer> {
        let claims = verified.get(token);
        if (claims && claims.exp * 1000 <= clock.now()) {
          verified.delete(token);
          throw unauthorized();
        }
        if (!claims) {
          const payload = await jwt.verify(token, {
            algorithms: ["HS256"],
            issuer: config.JWT_ISSUER,
            audience: config.JWT_AUDIENCE,
            requiredClaims: ["exp", "iat", "sub", "sid"],
            currentDate: new Date(clock.now()),
          });
          if (
            payload === false ||
            payload.typ !== "access" ||
            typeof payload.sid !== "string" ||
            typeof payload.sub !== "string" ||
            typeof payload.exp !== "number"
          )
            throw unauthorized();
          claims = { sub: payload.sub, sid: payload.sid, exp: payload.exp };
          verified.set(token, claims);
        }
        const session = await ctx.sessions.check(claims.sid);
        if (!session || String(session.userId) !== claims.sub) throw unauthorized();
        // Per-user limit on top of the per-IP one: a token spread over many addresses is still one client.
        await limitRequest(ctx, set, "user", String(session.userId));
        return { id: session.userId, role: session.role, sessionId: claims.sid, token };
      },
      /** Sign an access token for a session. */
      issueToken(userId: number, sessionId: string): Promise<string> {
        const now = Math.floor(clock.now() / 1000);
        return jwt.sign({
          sub: String(userId),
          sid: sessionId,
          typ: "access",
          // Unique per token, so a refresh never hands back a byte-identical token within the same second.
          jti: randomBytes(12).toString("base64url"),
          exp: now + config.JWT_TTL_SECONDS,
        });
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
