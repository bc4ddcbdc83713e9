/**
 * Hand-made JWTs for attacking the token check: re-sign a real token's claims with another secret, another
 * algorithm, or none at all. HS256 is just HMAC-SHA256 over `header.payload`, so node:crypto is enough.
 */
import { createHmac } from "node:crypto";

const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

export function decodeClaims(token: string): Record<string, unknown> {
  const payload = token.split(".")[1];
  if (!payload) throw new Error("not a JWT");
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
}

export function signToken(
  claims: Record<string, unknown>,
  secret: string,
  alg: "HS256" | "HS384" | "HS512" | "none" = "HS256",
): string {
  const head = `${b64url(JSON.stringify({ alg, typ: "JWT" }))}.${b64url(JSON.stringify(claims))}`;
  if (alg === "none") return `${head}.`;
  const hash = { HS256: "sha256", HS384: "sha384", HS512: "sha512" }[alg];
  return `${head}.${createHmac(hash, secret).update(head).digest("base64url")}`;
}
