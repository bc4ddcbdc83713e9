/**
 * Attacks on the one-time account tokens (password reset, email verification), as tokens.test.ts does for
 * access tokens: forged, altered, replayed, expired, used for the other purpose, or another kind of token
 * altogether. Every case gets the one answer (400 `token` "is invalid or has expired") and changes nothing.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import {
  badToken,
  confirmReset,
  deliver,
  type MailApp,
  mailApp,
  resetToken,
  verify,
  welcomeToken,
} from "../accounts/helpers.ts";
import { registerUser, row, type TestUser } from "../helpers/app.ts";

let t: MailApp;
let user: TestUser;
/** A live reset token and a live verification token of `user`, never spent by the attacks below. */
let reset: string;
let verification: string;
/** Spent ones. */
let usedReset: string;
let usedVerification: string;
let refreshToken: string;

const state = async () => ({
  user: await row(t, "select password_hash, email_verified_at from users where id = ?", user.id),
  tokens: await t.db.all("select id, used_at from account_tokens order by id"),
  sessions: await t.db.all("select id, revoked_at from sessions order by id"),
});

beforeAll(async () => {
  t = await mailApp({ PASSWORD_RESET_TTL_SECONDS: "600" });
  user = await registerUser(t);
  const login = await t.request("POST", "/api/users/login", {
    body: { user: { email: user.email, password: user.password } },
  });
  refreshToken = login.body.user.refreshToken;
  // One of each spent: a verification (the welcome's), and a reset.
  usedVerification = await welcomeToken(t, user.email);
  expect((await verify(t, usedVerification)).status).toBe(200);
  usedReset = await resetToken(t, user.email);
  expect((await confirmReset(t, usedReset, user.password)).status).toBe(200);
  // And one of each live.
  reset = await resetToken(t, user.email);
  await t.db.run("update users set email_verified_at = null where id = ?", user.id);
  await t.request("POST", "/api/user/verification-email", { token: (await loginToken()) as string });
  await deliver(t);
  verification = t.smtp.received
    .filter((m) => m.subject.startsWith("Confirm"))
    .map((m) => tokenOf(m.text))
    .at(-1)!;
});

const tokenOf = (text: string) => /token=([A-Za-z0-9_-]+)/.exec(text)![1]!;
async function loginToken() {
  const res = await t.request("POST", "/api/users/login", {
    body: { user: { email: user.email, password: user.password } },
  });
  return res.body.user.token;
}

const flip = (token: string) => `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;

/** [case, token] for an endpoint whose live token is `live` and whose other-purpose token is `other`. */
const attacks = (live: () => string, other: () => string, used: () => string): [string, () => string][] => [
  ["forged: right shape, random", () => `${live().slice(0, 3)}${"Q".repeat(43)}`],
  ["altered: one character changed", () => flip(live())],
  ["truncated", () => live().slice(0, -1)],
  ["extended", () => `${live()}A`],
  ["the prefix alone", () => live().slice(0, 3)],
  ["the secret without its prefix", () => live().slice(3)],
  ["the other purpose's live token", other],
  ["the other purpose's secret under this prefix", () => `${live().slice(0, 3)}${other().slice(3)}`],
  ["replayed: already used", used],
  ["a refresh token", () => refreshToken],
  ["an access token (JWT)", () => user.token],
  ["SQL in the token", () => "pr_' OR 1=1 --"],
  ["256 characters", () => "x".repeat(256)],
];

describe.each([
  [
    "POST /api/users/password-reset/confirm",
    (token: string) => confirmReset(t, token, "an attacker's passphrase"),
    () => reset,
    () => verification,
    () => usedReset,
  ],
  [
    "POST /api/users/verify-email",
    (token: string) => verify(t, token),
    () => verification,
    () => reset,
    () => usedVerification,
  ],
] as const)("%s", (_route, send, live, other, used) => {
  test.each(attacks(live, other, used))("%s → 400, nothing changes", async (_case, make) => {
    const before = await state();
    const res = await send(make());
    expect(res.status).toBe(400);
    expect(res.body).toEqual(badToken);
    expect(await state()).toEqual(before);
  });
});

test("expired: a live reset token stops one TTL after it was sent, and changes nothing", async () => {
  const before = await state();
  t.clock.advance(600_000);
  const res = await confirmReset(t, reset, "an attacker's passphrase");
  expect(res.status).toBe(400);
  expect(res.body).toEqual(badToken);
  expect(await state()).toEqual(before);
  // The verification token (3 days) still works: expiry is per purpose.
  expect((await verify(t, verification)).status).toBe(200);
});
