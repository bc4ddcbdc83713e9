/**
 * Personal flags never leak through the shared cache entries: each reader sees their own `favorited` and
 * `following`, in whatever order the readers come (the first reader fills the cache).
 */
import { beforeEach, describe, expect, test } from "bun:test";
import {
  type ApiArticle,
  createArticle,
  createTestApp,
  favorite,
  follow,
  registerUser,
  type TestApp,
  type TestUser,
} from "../helpers/app.ts";

let t: TestApp;
let author: TestUser;
let fan: TestUser;
let stranger: TestUser;
let article: ApiArticle;

beforeEach(async () => {
  t = await createTestApp();
  author = await registerUser(t);
  fan = await registerUser(t);
  stranger = await registerUser(t);
  article = await createArticle(t, author.token, { tagList: ["shared"] });
});

const flagsOf = (a: { favorited: boolean; author: { following: boolean } }) => [
  a.favorited,
  a.author.following,
];

/** Every read path of one article, as one reader sees it: [favorited, following] per path. */
async function views(token?: string) {
  const one = await t.request("GET", `/api/articles/${article.slug}`, { token });
  const list = await t.request("GET", "/api/articles", { token });
  const byTag = await t.request("GET", "/api/articles?tag=shared", { token });
  const search = await t.request("GET", `/api/articles?q=${encodeURIComponent(article.title)}`, { token });
  const profile = await t.request("GET", `/api/profiles/${author.username}`, { token });
  for (const r of [one, list, byTag, search, profile]) expect(r.status).toBe(200);
  return {
    article: flagsOf(one.body.article),
    list: flagsOf(list.body.articles[0]),
    tag: flagsOf(byTag.body.articles[0]),
    search: flagsOf(search.body.articles[0]),
    following: profile.body.profile.following,
  };
}

const none = { article: [false, false], list: [false, false], tag: [false, false], search: [false, false] };

describe("flags are per reader, whoever filled the cache", () => {
  for (const first of ["fan", "stranger", "anonymous"] as const) {
    test(`first reader: ${first}`, async () => {
      await favorite(t, fan.token, article.slug);
      await follow(t, fan.token, author.username);
      const token = { fan: fan.token, stranger: stranger.token, anonymous: undefined }[first];
      await views(token); // fills every cache entry from this reader's request
      expect(await views(fan.token)).toEqual({
        article: [true, true],
        list: [true, true],
        tag: [true, true],
        search: [true, true],
        following: true,
      });
      expect(await views(stranger.token)).toEqual({ ...none, following: false });
      expect(await views()).toEqual({ ...none, following: false });
    });
  }

  test("favourited but not following, and the other way round, are kept apart", async () => {
    await favorite(t, fan.token, article.slug);
    await follow(t, stranger.token, author.username);
    await views();
    expect((await views(fan.token)).article).toEqual([true, false]);
    expect((await views(stranger.token)).article).toEqual([false, true]);
    expect((await views(stranger.token)).list).toEqual([false, true]);
  });

  test("unfavourite and unfollow show at once for that reader", async () => {
    await favorite(t, fan.token, article.slug);
    await follow(t, fan.token, author.username);
    expect((await views(fan.token)).article).toEqual([true, true]);
    await t.request("DELETE", `/api/articles/${article.slug}/favorite`, { token: fan.token });
    await t.request("DELETE", `/api/profiles/${author.username}/follow`, { token: fan.token });
    expect(await views(fan.token)).toEqual({ ...none, following: false });
  });

  test("write responses carry the writer's flags", async () => {
    await follow(t, fan.token, author.username);
    const res = await t.request("POST", `/api/articles/${article.slug}/favorite`, { token: fan.token });
    expect(flagsOf(res.body.article)).toEqual([true, true]);
    const own = await t.request("PUT", `/api/articles/${article.slug}`, {
      token: author.token,
      body: { article: { description: "changed" } },
    });
    expect(flagsOf(own.body.article)).toEqual([false, false]);
    expect(own.body.article.favoritesCount).toBe(1);
  });
});

describe("the feed is cached per reader", () => {
  test("two readers following different authors each get their own feed, whoever reads first", async () => {
    const other = await registerUser(t);
    const theirs = await createArticle(t, other.token);
    await follow(t, fan.token, author.username);
    await follow(t, stranger.token, other.username);
    const feedOf = async (token: string) => {
      const res = await t.request("GET", "/api/articles/feed", { token });
      expect(res.status).toBe(200);
      return res.body.articles.map((a: { slug: string }) => a.slug);
    };
    expect(await feedOf(fan.token)).toEqual([article.slug]);
    expect(await feedOf(stranger.token)).toEqual([theirs.slug]);
    expect(await feedOf(fan.token)).toEqual([article.slug]);
  });

  test("a favourite shows in the reader's cached feed at once, flag and count", async () => {
    await follow(t, fan.token, author.username);
    const before = await t.request("GET", "/api/articles/feed", { token: fan.token });
    expect(before.body.articles[0]).toMatchObject({ favorited: false, favoritesCount: 0 });
    await favorite(t, fan.token, article.slug);
    const after = await t.request("GET", "/api/articles/feed", { token: fan.token });
    expect(after.body.articles[0]).toMatchObject({ favorited: true, favoritesCount: 1 });
    expect(after.body.articles[0].author.following).toBe(true);
  });

  test("a followed author's new article and a follow of someone else both show at once", async () => {
    const other = await registerUser(t);
    await createArticle(t, other.token);
    await follow(t, fan.token, author.username);
    expect((await t.request("GET", "/api/articles/feed", { token: fan.token })).body.articlesCount).toBe(1);
    const next = await createArticle(t, author.token);
    const feed = await t.request("GET", "/api/articles/feed", { token: fan.token });
    expect(feed.body.articles[0].slug).toBe(next.slug);
    expect(feed.body.articlesCount).toBe(2);
    await follow(t, fan.token, other.username);
    expect((await t.request("GET", "/api/articles/feed", { token: fan.token })).body.articlesCount).toBe(3);
  });
});
