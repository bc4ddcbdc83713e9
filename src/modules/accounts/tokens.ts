/**
 * Account tokens: the one-time secrets sent by email to reset a password or verify an address. Model:
 * - Opaque and URL-safe: a purpose prefix (`pr_` reset, `ev_` verification) and 32 random bytes in base64url
 *   (256 bits). Made by the job that sends the email, at the moment it sends it, so the plaintext exists only
 *   in that message: the outbox row carries the user id alone, and the database only a SHA-256 of the token
 *   (a fast hash suffices for 256 random bits; there is nothing to brute-force).
 * - Purpose-bound twice: by the prefix (a verification token is refused at the reset endpoint before any
 *   lookup) and by the row's `purpose`, which the lookup requires.
 * - Bound to the address it was sent to: it works only while that is still the account's address, so a link
 *   sent to an old address neither verifies a new one nor resets the password once the address changed.
 * - Single use through ONE atomic statement (`UPDATE … SET used_at … WHERE used_at IS NULL AND
 *   expires_at > now … RETURNING`): of two concurrent uses exactly one wins. A completed reset retires every
 *   other reset token of the account, a verification every other verification token.
 * - Expire: PASSWORD_RESET_TTL_SECONDS (default 30 min), EMAIL_VERIFICATION_TTL_SECONDS (default 3 days).
 *   Housekeeping purges used and expired rows.
 * - Unknown, used, expired, wrong-purpose and malformed tokens all get one answer (400 `token` "is invalid
 *   or has expired"): the answer tells nothing about which.
 * - Never logged: the log mail transport redacts them (src/modules/mail/mailer.ts); requests log no bodies.
 */
import { createHash, randomBytes } from "node:crypto";
import type { AppContext } from "../../context.ts";
import { AppError } from "../../errors.ts";
import type { AccountTokenPurpose } from "../../store/lifecycle.ts";

export type { AccountTokenPurpose };

const PREFIX: Record<AccountTokenPurpose, string> = {
  "password-reset": "pr_",
  "email-verification": "ev_",
};
const FORMAT: Record<AccountTokenPurpose, RegExp> = {
  "password-reset": /^pr_[A-Za-z0-9_-]{43}$/,
  "email-verification": /^ev_[A-Za-z0-9_-]{43}$/,
};

/** 400, not 422: the request is well-formed, the link is not (any more); the client should ask for a new one. */
export const invalidAccountToken = () => new AppError(400, { token: ["is invalid or has expired"] });

export const hashAccountToken = (token: string) => createHash("sha256").update(token).digest("base64url");

/** Whether `token` has the shape of a token of `purpose` (a cheap refusal before any lookup). */
export const isAccountToken = (purpose: AccountTokenPurpose, token: string) => FORMAT[purpose].test(token);

function ttlSeconds(ctx: AppContext, purpose: AccountTokenPurpose): number {
  return purpose === "password-reset"
    ? ctx.config.PASSWORD_RESET_TTL_SECONDS
    : ctx.config.EMAIL_VERIFICATION_TTL_SECONDS;
}

export interface IssuedToken {
  token: string;
  /** The link (or bare `token=…`) to put in the email. */
  link: string;
  /** How long it works, in minutes, for the email's text. */
  validMinutes: number;
}

/**
 * Make a token of `purpose` for the account's current address and store its hash (a unit of work of its own:
 * called by the job that sends the email, outside any other). Returns the only plaintext copy.
 */
export async function issueAccountToken(
  ctx: AppContext,
  purpose: AccountTokenPurpose,
  user: { id: number; email: string },
): Promise<IssuedToken> {
  const token = `${PREFIX[purpose]}${randomBytes(32).toString("base64url")}`;
  const now = ctx.clock.now();
  const ttl = ttlSeconds(ctx, purpose);
  await ctx.store.write((tx) =>
    tx.accountTokens.insert({
      userId: user.id,
      purpose,
      tokenHash: hashAccountToken(token),
      email: user.email,
      expiresAt: now + ttl * 1000,
      now,
    }),
  );
  return { token, link: linkFor(ctx.config.APP_URL, purpose, token), validMinutes: Math.round(ttl / 60) };
}

/** `<APP_URL>/reset-password?token=…`, or the bare `token=…` when no front end is configured. */
export function linkFor(appUrl: string, purpose: AccountTokenPurpose, token: string): string {
  if (appUrl === "") return `token=${token}`;
  const page = purpose === "password-reset" ? "reset-password" : "verify-email";
  return `${appUrl}/${page}?token=${token}`;
}
