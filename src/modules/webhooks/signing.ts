/**
 * Standard Webhooks signing (https://www.standardwebhooks.com). Each endpoint has a secret `whsec_<base64>`;
 * the HMAC key is the base64-decoded part after the prefix. A delivery carries `webhook-id` (stable across
 * retries, for the receiver's deduplication), `webhook-timestamp` (Unix seconds of this attempt, for its replay
 * window) and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
 *
 * The secret is stored as is (it must be, to sign), returned in full only by the creating request, and masked
 * everywhere else; it never enters the jobs table or the log.
 */
import { createHmac, randomBytes } from "node:crypto";

const PREFIX = "whsec_";

/** 32 random bytes: the spec asks for 24 to 64. */
export function generateSecret(): string {
  return `${PREFIX}${randomBytes(32).toString("base64")}`;
}

export function maskSecret(secret: string): string {
  return `${PREFIX}********${secret.slice(-4)}`;
}

export function sign(secret: string, messageId: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.slice(PREFIX.length), "base64");
  const mac = createHmac("sha256", key).update(`${messageId}.${timestampSeconds}.${body}`).digest("base64");
  return `v1,${mac}`;
}

/** A new message id (`msg_…`), one per event and endpoint. */
export function newMessageId(): string {
  return `msg_${randomBytes(16).toString("base64url")}`;
}
