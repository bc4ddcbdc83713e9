/**
 * Races through the API, on either engine: requests that each check-then-write, sent at the same moment. On
 * SQLite units run one after another; on Postgres they overlap (a pool of 16 here) and SERIALIZABLE units with
 * retries must give the same outcome as some order of them (src/infra/postgres/store.ts). The other races
 * live beside their features: 40 parallel favourites (favorites-feed.test.ts), concurrent refreshes of one
 * token (tests/security/refresh.test.ts); the store contract suite has them below HTTP (tests/store).
 */
import { describe, expect, test } from "bun:test";
import { count, createTestApp, envelope, registerUser, row, setRole, unique } from "../helpers/app.ts";

const POOL = { DATABASE_POOL_SIZE: "16" };

describe("races", () => {
  test("ten registrations of one name in different cases, at once: one account, nine 409s", async () => {
    const t = await createTestApp(POOL);
    const name = unique("Race");
    const spellings = Array.from({ length: 10 }, (_, i) =>
      [...name].map((c, j) => ((i >> (j % 4)) & 1 ? c.toUpperCase() : c.toLowerCase())).join(""),
    );
    const answers = await Promise.all(
      spellings.map((username, i) =>
        t.request("POST", "/api/users", {
          body: { user: { username, email: `${unique("race")}-${i}@example.com`, password: "password-123" } },
        }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, ...Array(9).fill(409)]);
    for (const a of answers.filter((r) => r.status === 409))
      expect(a.body).toEqual(envelope("username", "has already been taken"));
    expect(await count(t, "users where lower(username) = lower(?)", name)).toBe(1);
  });

  test("ten registrations of one email in different cases, at once: one account", async () => {
    const t = await createTestApp(POOL);
    const email = `${unique("mail")}@example.com`;
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        t.request("POST", "/api/users", {
          body: {
            user: {
              username: unique("mailrace"),
              email: i % 2 ? email.toUpperCase() : email,
              password: "password-123",
            },
          },
        }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, ...Array(9).fill(409)]);
    expect(await count(t, "users where lower(email) = lower(?)", email)).toBe(1);
  });

  test("the last two admins demoting each other at once: one succeeds, one 409, one admin left", async () => {
    const t = await createTestApp(POOL);
    const a = await registerUser(t);
    const b = await registerUser(t);
    await setRole(t, a.id, "admin");
    await setRole(t, b.id, "admin");
    for (let round = 0; round < 5; round++) {
      const [byA, byB] = await Promise.all([
        t.request("PATCH", `/api/admin/users/${b.username}`, { token: a.token, body: { role: "editor" } }),
        t.request("PATCH", `/api/admin/users/${a.username}`, { token: b.token, body: { role: "editor" } }),
      ]);
      const statuses = [byA.status, byB.status].sort();
      // Whoever's demotion counted the other as an admin first wins; the other finds no admin left to spare
      // (or, demoted meanwhile, no longer holds the admin role: 403).
      expect(statuses[0]).toBe(200);
      expect([403, 409]).toContain(statuses[1]!);
      expect(await count(t, "users where role = 'admin' and suspended = false")).toBe(1);
      // Promote the demoted one again for the next round.
      const demoted = byA.status === 200 ? b : a;
      await setRole(t, demoted.id, "admin");
    }
    expect(await row(t, "select count(*) as n from users where role = 'admin'")).toEqual({ n: 2 });
  });

  test("forty articles with the same tags at once: every one created, tagged and searchable", async () => {
    // On Postgres these units conflict (the tags, the slug and search indexes) and some are retried. A
    // statement that failed inside a unit (the live-update payload read) once went unreported, and the unit
    // then failed on its aborted transaction with a 500 instead of being run again.
    const t = await createTestApp(POOL);
    const authors = await Promise.all(Array.from({ length: 4 }, () => registerUser(t)));
    const tag = unique("crowd");
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        t.request("POST", "/api/articles", {
          token: authors[i % 4]!.token,
          body: {
            article: { title: `Crowd ${i}`, description: "d", body: "Gathered", tagList: [tag, "common"] },
          },
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(40).fill(201));
    expect(await count(t, "articles where title like 'Crowd %'")).toBe(40);
    const tagged = await t.request("GET", `/api/articles?tag=${tag}&limit=100`);
    expect(tagged.body.articlesCount).toBe(40);
    expect((await t.request("GET", "/api/articles?q=gathered&limit=100")).body.articlesCount).toBe(40);
  });
});
