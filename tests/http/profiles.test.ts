/** Profiles, follow and unfollow (RealWorld §3.5–3.7). */
import { beforeAll, describe, expect, test } from "bun:test";
import { count, createTestApp, envelope, registerUser, type TestApp, unique } from "../helpers/app.ts";

const follows = (t: TestApp, follower: number, followee: number) =>
  count(t, "follows where follower_id = ? and followee_id = ?", follower, followee);

describe("GET /api/profiles/:username", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  test("200 without auth: bio and image null, following false", async () => {
    const celeb = await registerUser(t);
    const res = await t.request("GET", `/api/profiles/${celeb.username}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      profile: { username: celeb.username, bio: null, image: null, following: false },
    });
  });

  test("shows bio and image once set", async () => {
    const celeb = await registerUser(t);
    await t.request("PUT", "/api/user", {
      token: celeb.token,
      body: { user: { bio: "Famous", image: "https://example.com/c.png" } },
    });
    const res = await t.request("GET", `/api/profiles/${celeb.username}`);
    expect(res.body.profile).toEqual({
      username: celeb.username,
      bio: "Famous",
      image: "https://example.com/c.png",
      following: false,
    });
  });

  test("the username is matched regardless of case; the stored spelling is returned", async () => {
    const celeb = await registerUser(t, { username: unique("MixedCase") });
    const res = await t.request("GET", `/api/profiles/${celeb.username.toLowerCase()}`);
    expect(res.status).toBe(200);
    expect(res.body.profile.username).toBe(celeb.username);
  });

  test("404 profile not found for an unknown username, with or without auth", async () => {
    const me = await registerUser(t);
    for (const token of [undefined, me.token]) {
      const res = await t.request("GET", `/api/profiles/${unique("ghost")}`, { token });
      expect(res.status).toBe(404);
      expect(res.body).toEqual(envelope("profile", "not found"));
    }
  });

  test("401 is invalid when a token is present but bad (auth is optional, not ignored)", async () => {
    const celeb = await registerUser(t);
    const res = await t.request("GET", `/api/profiles/${celeb.username}`, { token: "bad.token.here" });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(envelope("token", "is invalid"));
  });
});

describe("POST/DELETE /api/profiles/:username/follow", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  test("follow: 200 following true, persisted, idempotent", async () => {
    const main = await registerUser(t);
    const celeb = await registerUser(t);
    const res = await t.request("POST", `/api/profiles/${celeb.username}/follow`, { token: main.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      profile: { username: celeb.username, bio: null, image: null, following: true },
    });
    expect(await follows(t, main.id, celeb.id)).toBe(1);

    const again = await t.request("POST", `/api/profiles/${celeb.username}/follow`, { token: main.token });
    expect(again.status).toBe(200);
    expect(again.body.profile.following).toBe(true);
    expect(await follows(t, main.id, celeb.id)).toBe(1);

    const seen = await t.request("GET", `/api/profiles/${celeb.username}`, { token: main.token });
    expect(seen.body.profile.following).toBe(true);
    const anon = await t.request("GET", `/api/profiles/${celeb.username}`);
    expect(anon.body.profile.following).toBe(false);
    // Following is one-way.
    const back = await t.request("GET", `/api/profiles/${main.username}`, { token: celeb.token });
    expect(back.body.profile.following).toBe(false);
  });

  test("unfollow: 200 following false, persisted, idempotent", async () => {
    const main = await registerUser(t);
    const celeb = await registerUser(t);
    await t.request("POST", `/api/profiles/${celeb.username}/follow`, { token: main.token });
    const res = await t.request("DELETE", `/api/profiles/${celeb.username}/follow`, { token: main.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      profile: { username: celeb.username, bio: null, image: null, following: false },
    });
    expect(await follows(t, main.id, celeb.id)).toBe(0);

    const again = await t.request("DELETE", `/api/profiles/${celeb.username}/follow`, { token: main.token });
    expect(again.status).toBe(200);
    expect(again.body.profile.following).toBe(false);
    const seen = await t.request("GET", `/api/profiles/${celeb.username}`, { token: main.token });
    expect(seen.body.profile.following).toBe(false);
  });

  test("unfollowing only removes the caller's follow", async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const celeb = await registerUser(t);
    await t.request("POST", `/api/profiles/${celeb.username}/follow`, { token: a.token });
    await t.request("POST", `/api/profiles/${celeb.username}/follow`, { token: b.token });
    await t.request("DELETE", `/api/profiles/${celeb.username}/follow`, { token: a.token });
    expect(await follows(t, a.id, celeb.id)).toBe(0);
    expect(await follows(t, b.id, celeb.id)).toBe(1);
  });

  test("401 is missing without auth, even for an unknown user (auth is checked first)", async () => {
    for (const method of ["POST", "DELETE"]) {
      const res = await t.request(method, `/api/profiles/${unique("unknown-user")}/follow`);
      expect(res.status).toBe(401);
      expect(res.body).toEqual(envelope("token", "is missing"));
    }
  });

  test("404 profile not found for an unknown user with auth", async () => {
    const me = await registerUser(t);
    for (const method of ["POST", "DELETE"]) {
      const res = await t.request(method, `/api/profiles/${unique("unknown")}/follow`, { token: me.token });
      expect(res.status).toBe(404);
      expect(res.body).toEqual(envelope("profile", "not found"));
    }
    expect(await count(t, "follows where follower_id = ?", me.id)).toBe(0);
  });

  test("following yourself is refused with 422 and stores nothing", async () => {
    const me = await registerUser(t);
    const res = await t.request("POST", `/api/profiles/${me.username}/follow`, { token: me.token });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(envelope("profile", "cannot follow yourself"));
    expect(await follows(t, me.id, me.id)).toBe(0);
  });
});
