/**
 * The account lifecycle over HTTP: password reset, email verification, the data export and deleting the
 * account (the models of each are in ./service.ts, ./tokens.ts, ./export.ts and ./deletion.ts).
 */
import { Elysia, t } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { clientOf } from "../../http/client-ip.ts";
import { negotiateEncoding } from "../../http/compression.ts";
import { security } from "../../http/docs.ts";
import { errorDoc } from "../../http/model.ts";
import { rateLimitMacro, requestLimiter } from "../../http/rate-limit.ts";
import { SignedInEnvelope } from "../users/model.ts";
import {
  AccountExportDocument,
  DeleteAccountBody,
  PasswordResetBody,
  PasswordResetConfirmBody,
  ResetRequested,
  VerificationRequested,
  VerifiedEnvelope,
  VerifyEmailBody,
} from "./model.ts";
import {
  type AccountExport,
  addressHash,
  confirmPasswordReset,
  deleteAccount,
  exportAccount,
  requestPasswordReset,
  requestVerificationEmail,
  verifyEmail,
} from "./service.ts";

const badToken = errorDoc(
  "The token is unknown, already used, expired, meant for something else, or its account's address changed since it was sent: one answer for all",
  { token: ["is invalid or has expired"] },
);

/** The export's pieces as a byte stream, compressed as it goes when the client accepts it. */
function exportResponse(ctx: AppContext, request: Request, { filename, chunks }: AccountExport): Response {
  const encoder = new TextEncoder();
  let body: ReadableStream<Uint8Array> = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(encoder.encode(value));
      } catch (err) {
        // Too late for an error status: the client sees a cut-off document (invalid JSON), never a wrong one.
        ctx.log.error({ err }, "account export failed while streaming");
        controller.error(err);
      }
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  const headers: Record<string, string> = {
    "content-type": "application/json; charset=utf-8",
    "content-disposition": `attachment; filename="${filename}"`,
  };
  // Compressed here, as it streams: the compression plugin would read the whole body into memory first.
  const encoding = negotiateEncoding(request.headers.get("accept-encoding"), ["gzip", "br"]);
  if (encoding) {
    const compress = new CompressionStream(encoding === "br" ? "brotli" : "gzip");
    body = body.pipeThrough(compress as unknown as ReadableWritablePair<Uint8Array, Uint8Array>);
    headers["content-encoding"] = encoding;
    headers.vary = "Accept-Encoding";
  }
  return new Response(body, { headers });
}

export const accountsRoutes = (ctx: AppContext) => {
  const limit = requestLimiter(ctx);
  return new Elysia({ name: "quire/accounts", tags: ["Users"] })
    .use(authPlugin(ctx))
    .use(rateLimitMacro(ctx))
    .post(
      "/api/users/password-reset",
      async ({ body, request, set, status }) => {
        // Per address as well as per IP; the limiter keys on a hash, never on the address.
        await limit(set, "email", `reset:${addressHash(body.user.email)}`);
        return status(202, await requestPasswordReset(ctx, body.user.email, { ip: clientOf(request).ip }));
      },
      {
        body: PasswordResetBody,
        rateLimit: "password-reset",
        response: {
          202: ResetRequested,
          422: errorDoc("The address is missing or malformed", { email: ["is invalid"] }),
        },
        detail: {
          summary: "Ask for a password reset",
          description:
            "If an account (not suspended) uses this address, a link carrying `token=<token>` is emailed to it: it works once, for PASSWORD_RESET_TTL_SECONDS (default 30 minutes). The answer is the same, in status, body and (closely) time, whether or not the address has an account. Limited per IP (RATE_LIMIT_AUTH_PER_MINUTE) and per address (RATE_LIMIT_EMAIL_PER_ADDRESS_PER_HOUR). Audited.",
        },
      },
    )
    .post(
      "/api/users/password-reset/confirm",
      ({ body, issueToken, request }) =>
        confirmPasswordReset(ctx, body, issueToken, { ip: clientOf(request).ip }),
      {
        body: PasswordResetConfirmBody,
        rateLimit: "account-token",
        response: {
          200: SignedInEnvelope,
          400: badToken,
          422: errorDoc("A field is missing, or the password is too short", {
            password: ["is too short (minimum is 8 characters)"],
          }),
        },
        detail: {
          summary: "Reset the password",
          description:
            "Set a new password with the token from the reset email, and sign in on a new session (a new `token` and `refreshToken`). Every session that existed before ends (401 on its next request, realtime sockets closed with 4001), the old password stops working, the token and every other reset link of the account stop working, and the address counts as verified. A password-change notice is emailed. Limited per IP (RATE_LIMIT_AUTH_PER_MINUTE). Audited.",
        },
      },
    )
    .post(
      "/api/users/verify-email",
      ({ body, request }) => verifyEmail(ctx, body.token, { ip: clientOf(request).ip }),
      {
        body: VerifyEmailBody,
        rateLimit: "account-token",
        response: {
          200: VerifiedEnvelope,
          400: badToken,
          422: errorDoc("The token is missing", { token: ["can't be blank"] }),
        },
        detail: {
          summary: "Verify the email address",
          description:
            "Confirm the address with the token from a verification email (sent on registration, on an address change, and on request). No Authorization needed: the link may be opened anywhere. The token works once, for EMAIL_VERIFICATION_TTL_SECONDS (default 3 days), and only while the address it was sent to is still the account's. Limited per IP (RATE_LIMIT_AUTH_PER_MINUTE). Audited.",
        },
      },
    )
    .post(
      "/api/user/verification-email",
      async ({ viewer, set, status }) => {
        await limit(set, "email", `verify:${viewer.id}`);
        return status(202, await requestVerificationEmail(ctx, viewer));
      },
      {
        auth: true,
        response: {
          202: VerificationRequested,
          409: errorDoc("The address is verified already", { email: ["is already verified"] }),
        },
        detail: {
          summary: "Ask for a new verification link",
          description:
            "Email a new verification link to the account's current address (earlier links keep working until they expire). Limited per account (RATE_LIMIT_EMAIL_PER_ADDRESS_PER_HOUR).",
          security: security.required,
        },
      },
    )
    .get(
      "/api/user/export",
      async ({ viewer, request, set }) => {
        // Each export reads the whole account: a bucket of its own, per account.
        await limit(set, "export", String(viewer.id));
        const data = await exportAccount(ctx, viewer, { ip: clientOf(request).ip });
        // A streamed Response in place of the documented object (which it serializes to).
        return exportResponse(ctx, request, data) as unknown as typeof AccountExportDocument.static;
      },
      {
        auth: true,
        response: { 200: AccountExportDocument },
        detail: {
          summary: "Export your data",
          description:
            "Everything the account owns or did, as one JSON document sent as a download (`Content-Disposition: attachment`): the account, articles with bodies and tags, comments, favorites, follows, sessions (times only) and the audit entries by or about it. Never the password hash, token hashes, session ids or anyone else's address. Streamed (compressed as it goes when the client accepts gzip or br), so any amount of content is sent in bounded memory. Never cached (`Cache-Control: no-store`). Audited.",
          security: security.required,
        },
      },
    )
    .delete(
      "/api/user",
      async ({ viewer, body, set }) => {
        await deleteAccount(ctx, viewer, body.user.password);
        set.status = 204;
      },
      {
        auth: true,
        body: DeleteAccountBody,
        rateLimit: "login",
        response: {
          204: t.Void({ description: "Deleted" }),
          403: errorDoc("The password is wrong; nothing changed", { password: ["is wrong"] }),
          409: errorDoc("The account is the last active admin; nothing changed", {
            user: ["is the last active admin"],
          }),
          422: errorDoc("The password is missing", { password: ["can't be blank"] }),
        },
        detail: {
          summary: "Delete your account",
          description:
            "Delete the account, with its current password. At once: every session ends (401, realtime sockets closed with 4001), signing in fails, the profile is 404; its articles (with their comments and favorites), its comments, favorites (counts on other articles go down) and follows are gone, and caches, realtime subscribers and webhooks hear of each as usual. The username and address can be registered again. An audit entry stays, without the name, the address or where the request came from. Counts against the per-IP login budget (a password is checked).",
          security: security.required,
        },
      },
    );
};
