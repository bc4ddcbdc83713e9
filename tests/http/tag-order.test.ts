/**
 * tagList is in Unicode code point order everywhere an article shows it: the write's answer, reads, lists,
 * search, the feed, the domain events (webhooks, cache invalidation) and the realtime payloads. The legacy
 * RealWorld Postman suite sends ["training", "dragons"] and expects "dragons" first.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import type { DomainEvent } from "../../src/events.ts";
import { compareCodePoints } from "../../src/lib/collation.ts";
import { deliveriesFor } from "../../src/modules/realtime/payloads.ts";
import { createTestApp, follow, registerUser, type TestApp, type TestUser, unique } from "../helpers/app.ts";

// Code point order: "B" (U+0042) < "a" < "ä" (U+00E4) < "ｚ" (U+FF5A) < "🐉" (U+1F409). JavaScript's default
// sort compares UTF-16 code units and would put the dragon (a surrogate pair, 0xD83D…) before "ｚ".
const given = ["🐉", "ｚ", "ä", "a", "B", "training", "dragons"];
const sorted = ["B", "a", "dragons", "training", "ä", "ｚ", "🐉"];

describe("tagList order", () => {
  let t: TestApp;
  let author: TestUser;
  let reader: TestUser;
  const events: DomainEvent[] = [];
  const realtime: unknown[] = [];

  beforeAll(async () => {
    t = await createTestApp();
    author = await registerUser(t);
    reader = await registerUser(t);
    await follow(t, reader.token, author.username);
    // A webhook endpoint, so article events are turned into delivery jobs (read back from the jobs table).
    await t.db.run(
      "insert into webhooks (url, events, secret) values ('https://hooks.example.com/x', ?, 'whsec_dGVzdA==')",
      JSON.stringify(["article.created", "article.updated"]),
    );
    t.ctx.events.on({
      inTransaction: async (tx, e) => {
        events.push(e);
        for (const d of await deliveriesFor(tx, e)) realtime.push(d.data);
      },
    });
  });

  test("compareCodePoints is code point order, unlike the default sort", async () => {
    expect([...given].sort(compareCodePoints)).toEqual(sorted);
    expect([...given].sort()).not.toEqual(sorted);
    expect(compareCodePoints("ab", "a")).toBeGreaterThan(0);
    expect(compareCodePoints("a", "a")).toBe(0);
  });

  test("the legacy suite's article: dragons before training in every representation", async () => {
    const title = `How to train your dragon ${unique("t")}`;
    const res = await t.request("POST", "/api/articles", {
      token: author.token,
      body: { article: { title, description: "d", body: "b", tagList: ["training", "dragons"] } },
    });
    expect(res.status).toBe(201);
    expect(res.body.article.tagList).toEqual(["dragons", "training"]);
    const slug = res.body.article.slug as string;

    expect((await t.request("GET", `/api/articles/${slug}`)).body.article.tagList).toEqual([
      "dragons",
      "training",
    ]);
    const lists = [
      "/api/articles?tag=dragons",
      `/api/articles?author=${author.username}`,
      "/api/articles?q=dragon",
    ];
    for (const path of lists) {
      const list = await t.request("GET", path);
      expect(list.status).toBe(200);
      expect(list.body.articles.find((a: { slug: string }) => a.slug === slug).tagList).toEqual([
        "dragons",
        "training",
      ]);
    }
    const feed = await t.request("GET", "/api/articles/feed", { token: reader.token });
    expect(feed.body.articles[0]).toMatchObject({ slug, tagList: ["dragons", "training"] });
  });

  test("create and update: answers, reads, events, realtime and webhook payloads are all sorted", async () => {
    events.length = 0;
    realtime.length = 0;
    const created = await t.request("POST", "/api/articles", {
      token: author.token,
      body: { article: { title: unique("Order"), description: "d", body: "b", tagList: given } },
    });
    expect(created.status).toBe(201);
    expect(created.body.article.tagList).toEqual(sorted);
    const slug = created.body.article.slug as string;

    const updated = await t.request("PUT", `/api/articles/${slug}`, {
      token: author.token,
      body: { article: { tagList: ["zulu", "Alpha", "mike"] } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.article.tagList).toEqual(["Alpha", "mike", "zulu"]);
    expect((await t.request("GET", `/api/articles/${slug}`)).body.article.tagList).toEqual([
      "Alpha",
      "mike",
      "zulu",
    ]);

    expect(events.map((e) => [e.type, "tags" in e ? e.tags : undefined])).toEqual([
      ["article.created", sorted],
      ["article.updated", ["Alpha", "mike", "zulu"]],
    ]);
    const tagLists = realtime.map((d) => (d as { article: { tagList: string[] } }).article.tagList);
    expect(tagLists.length).toBeGreaterThan(2);
    expect(tagLists.slice(0, -1).every((l) => JSON.stringify(l) === JSON.stringify(sorted))).toBe(true);
    expect(tagLists.at(-1)).toEqual(["Alpha", "mike", "zulu"]);

    const bodies = (
      await t.db.all<{ payload: string }>(
        "select payload from jobs where type = 'webhook.deliver' order by id",
      )
    )
      .map(
        (r) =>
          JSON.parse(JSON.parse(r.payload).body) as {
            type: string;
            data: { article: { tagList: string[] } };
          },
      )
      .filter((b) => b.data.article.tagList.length > 2);
    expect(bodies.map((b) => [b.type, b.data.article.tagList])).toEqual([
      ["article.created", sorted],
      ["article.updated", ["Alpha", "mike", "zulu"]],
    ]);
  });
});
