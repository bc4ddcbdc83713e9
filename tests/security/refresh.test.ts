/** Refresh-token rotation under attack: replay revokes the family; of two concurrent refreshes one wins. */
import { describe, expect, test } from "bun:test";
import type { DomainEvent } from "../../src/events.ts";
import { count, createTestApp, registerUser, row, type TestApp } from "../helpers/app.ts";

async function setup(overrides: Record<string, string> = {}) {
  const t = await createTestApp(overrides);
  const user = await registerUser(t);
  const res = await t.request("POST", "/api/users/login", {
    body: { user: { email: user.email, password: user.password } },
  });
  const ended: DomainEvent[] = [];
  t.ctx.events.on({ afterCommit: (e) => void (e.type === "sessions.ended" && ended.push(e)) });
  return { t, user, session: res.body.user as { token: string; refreshToken: string }, ended };
}
const refresh = (t: TestApp, refreshToken: string) =>
  t.request("POST", "/api/users/refresh", { body: { refreshToken } });
const me = (t: TestApp, token: string) => t.request("GET", "/api/user", { token });

describe("refresh-token replay", () => {
  test("presenting a retired token ends the whole family: every token descended from that login dies", async () => {
    const { t, user, session, ended } = await setup();
    const first = await refresh(t, session.refreshToken);
    expect(first.status).toBe(200);
    const second = await refresh(t, first.body.user.refreshToken);
    expect(second.status).toBe(200);
    const latest = second.body.user;
    expect((await me(t, latest.token)).status).toBe(200);

    t.clock.advance(60_000);
    const replay = await refresh(t, session.refreshToken); // the attacker's stolen copy
    expect(replay.status).toBe(401);
    expect((await me(t, latest.token)).status).toBe(401);
    expect((await me(t, session.token)).status).toBe(401);
    expect((await refresh(t, latest.refreshToken)).status).toBe(401);
    expect(ended).toEqual([
      {
        type: "sessions.ended",
        userId: user.id,
        sessionIds: [expect.any(String)],
        reason: "refresh-token-reuse",
      },
    ]);
    const audit = await row<{ action: string; actor_id: number; detail: string }>(
      t,
      "select * from audit_log where action = 'refresh_token.reused'",
    );
    expect(audit).toMatchObject({ actor_id: user.id });
    expect(JSON.parse(audit!.detail)).toEqual({ sessionEnded: true });
  });

  test("replay ends only that family: the user's other sessions keep working", async () => {
    const { t, user, session } = await setup();
    const other = await me(t, user.token);
    expect(other.status).toBe(200);
    await refresh(t, session.refreshToken);
    await refresh(t, session.refreshToken);
    expect((await me(t, user.token)).status).toBe(200);
  });

  test("tokens are stored only as hashes", async () => {
    const { t, session } = await setup();
    expect(await count(t, "refresh_tokens where token_hash = ?", session.refreshToken)).toBe(0);
    expect(
      await count(t, "refresh_tokens where token_hash like ?", `%${session.refreshToken.slice(3, 20)}%`),
    ).toBe(0);
  });

  test("expired refresh token (REFRESH_TTL_SECONDS) is refused and issues nothing", async () => {
    const { t, session } = await setup({ REFRESH_TTL_SECONDS: "600" });
    t.clock.advance(601_000);
    const before = await count(t, "refresh_tokens");
    expect((await refresh(t, session.refreshToken)).status).toBe(401);
    expect(await count(t, "refresh_tokens")).toBe(before);
  });

  test("the session's absolute lifetime caps rotation", async () => {
    const { t, session } = await setup({ SESSION_TTL_SECONDS: "1000", REFRESH_TTL_SECONDS: "900" });
    t.clock.advance(800_000);
    const next = await refresh(t, session.refreshToken);
    expect(next.status).toBe(200);
    t.clock.advance(300_000); // 1 100 s after login: past the session, within the new token's 900 s
    expect((await refresh(t, next.body.user.refreshToken)).status).toBe(401);
  });
});

describe("concurrent refresh with one token", () => {
  test("exactly one wins; with a grace of 0 the loser's reuse ends the session", async () => {
    const { t, session } = await setup({ REFRESH_REUSE_GRACE_SECONDS: "0" });
    const before = await count(t, "refresh_tokens");
    const results = await Promise.all([refresh(t, session.refreshToken), refresh(t, session.refreshToken)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    expect(await count(t, "refresh_tokens")).toBe(before + 1);
    const winner = results.find((r) => r.status === 200)!.body.user;
    expect((await me(t, winner.token)).status).toBe(401);
  });

  test("with the default grace the loser is refused and the winner keeps its session", async () => {
    const { t, session, ended } = await setup();
    const results = await Promise.all([refresh(t, session.refreshToken), refresh(t, session.refreshToken)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    const winner = results.find((r) => r.status === 200)!.body.user;
    expect((await me(t, winner.token)).status).toBe(200);
    expect((await refresh(t, winner.refreshToken)).status).toBe(200);
    expect(ended).toEqual([]);
    // Past the grace period (default 5 s) a replay is theft again.
    t.clock.advance(6_000);
    expect((await refresh(t, session.refreshToken)).status).toBe(401);
    expect((await me(t, winner.token)).status).toBe(401);
  });

  test("twenty concurrent refreshes: one new token, never two", async () => {
    const { t, session } = await setup({ REFRESH_REUSE_GRACE_SECONDS: "10" });
    const before = await count(t, "refresh_tokens");
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(t, session.refreshToken)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(await count(t, "refresh_tokens")).toBe(before + 1);
  });
});
