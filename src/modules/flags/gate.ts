/**
 * Feature gates on routes owned by other modules, checked before the body is parsed or a password hashed:
 * - `registration` off: `POST /api/users` → 403 `{"errors":{"registration":["is closed"]}}`.
 * - `comments` off (or this user outside its rollout): writing or deleting a comment → 403
 *   `{"errors":{"comments":["are disabled"]}}`. 403, not 503: it is a policy decision that holds until an
 *   admin changes it, not a transient outage a client should retry.
 *
 * The rollout bucket needs a user id before authentication has run, so it is read from the token's `sub`
 * without verifying it. That is safe: the gate only ever refuses, and a request whose token is forged or
 * invalid is refused by authentication right after (a client cannot pick a bucket with a token it cannot sign).
 */
import { Elysia } from "elysia";
import { decodeJwt } from "jose";
import type { AppContext } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { bearerToken } from "../../http/auth.ts";
import { requestPath } from "../../http/url.ts";

const registration = /^\/api\/users\/?$/;
const commentWrite = /^\/api\/articles\/[^/]+\/comments(?:\/[^/]+)?\/?$/;

function unverifiedUserId(header: string | null): number | undefined {
  try {
    const token = bearerToken(header);
    const sub = token ? decodeJwt(token).sub : undefined;
    return sub && /^\d{1,15}$/.test(sub) ? Number(sub) : undefined;
  } catch {
    return undefined;
  }
}

export const flagGates = (ctx: AppContext) =>
  new Elysia({ name: "quire/flag-gates" }).onRequest(({ request }) => {
    const method = request.method;
    if (method !== "POST" && method !== "DELETE") return;
    const path = requestPath(request);
    if (method === "POST" && registration.test(path) && !ctx.flags.isEnabled("registration"))
      throw new AppError(403, { registration: ["is closed"] });
    if (
      commentWrite.test(path) &&
      !ctx.flags.isEnabled("comments", unverifiedUserId(request.headers.get("authorization")))
    )
      throw new AppError(403, { comments: ["are disabled"] });
  });
