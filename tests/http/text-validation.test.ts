/** Text fields must say something, and tags must be printable: refused input is 422 and creates nothing. */
import { beforeAll, describe, expect, test } from "bun:test";
import { count, createTestApp, envelope, registerUser, type TestApp, type TestUser } from "../helpers/app.ts";

let t: TestApp;
let user: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  user = await registerUser(t);
});
const create = (article: Record<string, unknown>) =>
  t.request("POST", "/api/articles", {
    token: user.token,
    body: { article: { title: "A title", description: "d", body: "b", ...article } },
  });

describe("blank text", () => {
  test.each(["title", "description", "body"])("a %s of spaces is blank", async (field) => {
    const before = await count(t, "articles");
    const res = await create({ [field]: "  \n\t " });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(envelope(field, "can't be blank"));
    expect(await count(t, "articles")).toBe(before);
  });

  test("a comment of spaces is blank", async () => {
    const article = (await create({})).body.article;
    const res = await t.request("POST", `/api/articles/${article.slug}/comments`, {
      token: user.token,
      body: { comment: { body: "   " } },
    });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(envelope("body", "can't be blank"));
    expect(await count(t, "comments")).toBe(0);
  });
});

describe("tags", () => {
  test.each([
    ["NUL", "\u0000"],
    ["a zero-width space", "\u200b"],
    ["a tab inside", "a\tb"],
    ["a bidi override", "abc\u202e"],
  ])("%s is refused", async (_name, tag) => {
    const before = await count(t, "tags");
    const res = await create({ tagList: ["fine", tag] });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(envelope("tagList", "is invalid"));
    expect(await count(t, "tags")).toBe(before);
  });

  test("printable tags in any script are kept, trimmed", async () => {
    const res = await create({ tagList: ["c++", "日本語", "two words", "  padded  "] });
    expect(res.status).toBe(201);
    expect(res.body.article.tagList).toEqual(["c++", "padded", "two words", "日本語"]);
  });
});
