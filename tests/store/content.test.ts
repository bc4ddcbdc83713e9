/** The content repositories (articles, profiles and follows, comments, tags) through the Store interface. */
import { expect, test } from "bun:test";
import { describeEngines } from "./engines.ts";
import { addArticle, addUser, page, searchWords, T0 } from "./fixtures.ts";

describeEngines("articles repository", (_engine, use) => {
  test("rows by slug and by ids carry author fields and tags in code point order", async () => {
    const { store } = use();
    const ann = await addUser(store, "ann");
    await store.write((tx) =>
      tx.users.update(ann.id, { bio: "writer", image: "https://i/a.png", updatedAt: T0 }),
    );
    const id = await addArticle(store, ann.id, {
      slug: "s1",
      title: "T",
      description: "D",
      body: "B",
      tags: ["zeta", "éclair", "alpha", "Alpha"],
    });
    const row = await store.read.articles.bySlug("s1");
    expect(row).toEqual({
      id,
      slug: "s1",
      title: "T",
      description: "D",
      body: "B",
      createdAt: T0,
      updatedAt: T0,
      favoritesCount: 0,
      authorId: ann.id,
      // Code point order whatever the database's locale: upper case first, accented letters after z.
      tagList: ["Alpha", "alpha", "zeta", "éclair"],
      authorUsername: "ann",
      authorBio: "writer",
      authorImage: "https://i/a.png",
    });
    const untagged = await addArticle(store, ann.id, { slug: "s2" });
    const rows = await store.read.articles.byIds([untagged, id, 999_999]);
    expect(rows.map((r) => r.id).sort((a, b) => a - b)).toEqual([id, untagged]);
    expect(rows.find((r) => r.id === untagged)?.tagList).toEqual([]);
    expect(rows.some((r) => "body" in r && r.body !== undefined)).toBe(false);
    expect(await store.read.articles.byIds([])).toEqual([]);
    expect(await store.read.articles.headBySlug("s1")).toEqual({
      id,
      slug: "s1",
      authorId: ann.id,
      updatedAt: T0,
    });
    expect(await store.read.articles.bySlug("nope")).toBeUndefined();
    expect(await store.read.articles.headBySlug("nope")).toBeUndefined();
  });

  test("pages are newest first, per filter, with totals", async () => {
    const { store } = use();
    const a = await addUser(store, "a");
    const b = await addUser(store, "b");
    const reader = await addUser(store, "reader");
    const a1 = await addArticle(store, a.id, { slug: "a1", tags: ["x"] });
    const b1 = await addArticle(store, b.id, { slug: "b1", tags: ["x", "y"] });
    const a2 = await addArticle(store, a.id, { slug: "a2", tags: ["y"] });
    const b2 = await addArticle(store, b.id, { slug: "b2" });
    await store.write(async (tx) => {
      await tx.articles.favorite(reader.id, a1);
      await tx.articles.favorite(reader.id, b1);
      await tx.profiles.follow(reader.id, b.id);
    });
    const ids = (f: Parameters<typeof store.read.articles.pageIds>[0], p = page()) =>
      store.read.articles.pageIds(f, p);
    expect(await ids({})).toEqual([b2, a2, b1, a1]);
    expect(await ids({}, page(2, 1))).toEqual([a2, b1]);
    expect(await ids({ tag: "x" })).toEqual([b1, a1]);
    expect(await ids({ tag: "nope" })).toEqual([]);
    expect(await ids({ author: a.id })).toEqual([a2, a1]);
    expect(await ids({ favorited: reader.id })).toEqual([b1, a1]);
    expect(await ids({ feed: reader.id })).toEqual([b2, b1]);
    expect(await ids({ tag: "x", author: b.id })).toEqual([b1]);
    expect(await ids({ tag: "y", favorited: reader.id })).toEqual([b1]);
    expect(await ids({ author: a.id, favorited: reader.id })).toEqual([a1]);
    expect(await store.read.articles.count({})).toBe(4);
    expect(await store.read.articles.count({ tag: "y" })).toBe(2);
    expect(await store.read.articles.count({ feed: reader.id })).toBe(2);
    expect(await store.read.articles.count({ tag: "x", author: a.id })).toBe(1);
    expect(await store.read.articles.favoritedAmong(reader.id, [a1, a2, b1, b2])).toEqual(
      expect.arrayContaining([a1, b1]),
    );
    expect((await store.read.articles.favoritedAmong(reader.id, [a2, b2])).length).toBe(0);
    expect(await store.read.articles.viewerFlags(reader.id, a1, a.id)).toEqual({
      favorited: true,
      following: false,
    });
    expect(await store.read.articles.viewerFlags(reader.id, b2, b.id)).toEqual({
      favorited: false,
      following: true,
    });
    expect(await store.read.articles.viewerFlags(99_999, a1, a.id)).toBeUndefined();
  });

  test("update keeps unchanged columns; setTags replaces tags; tagNames is sorted", async () => {
    const { store } = use();
    const a = await addUser(store, "a");
    const id = await addArticle(store, a.id, {
      slug: "old",
      title: "Old",
      body: "Body",
      tags: ["one", "two"],
    });
    await store.write(async (tx) => {
      await tx.articles.update(id, { slug: "new", title: "New", updatedAt: T0 + 9 });
      await tx.articles.setTags(id, ["two", "three"]);
      await tx.articles.reindex(id);
    });
    const row = await store.read.articles.bySlug("new");
    expect(row).toMatchObject({
      id,
      title: "New",
      body: "Body",
      description: "a description",
      updatedAt: T0 + 9,
    });
    expect(row?.tagList).toEqual(["three", "two"]);
    expect(await store.read.articles.bySlug("old")).toBeUndefined();
    expect(await store.read.articles.tagNames(id)).toEqual(["three", "two"]);
    expect(await store.read.tags.inUse()).toEqual(["three", "two"]); // "one" is no longer used
    await store.write((tx) => tx.articles.setTags(id, []));
    expect(await store.read.articles.tagNames(id)).toEqual([]);
    const other = await addArticle(store, a.id, { slug: "other" });
    const clash = await store
      .write((tx) => tx.articles.update(other, { slug: "new", updatedAt: T0 }))
      .catch((e) => e);
    expect(clash.constraint).toBe("articles_slug_uq");
  });

  test("favourites count once per user, never below zero, and go with the article", async () => {
    const { store } = use();
    const a = await addUser(store, "a");
    const r = await addUser(store, "r");
    const id = await addArticle(store, a.id, { slug: "fav" });
    expect(await store.write((tx) => tx.articles.favorite(r.id, id))).toBe(true);
    expect(await store.write((tx) => tx.articles.favorite(r.id, id))).toBe(false);
    expect(await store.write((tx) => tx.articles.bumpFavorites(id, 1))).toBe(1);
    expect(await store.write((tx) => tx.articles.unfavorite(r.id, id))).toBe(true);
    expect(await store.write((tx) => tx.articles.unfavorite(r.id, id))).toBe(false);
    expect(await store.write((tx) => tx.articles.bumpFavorites(id, -1))).toBe(0);
    expect(await store.write((tx) => tx.articles.bumpFavorites(id, -1))).toBe(0);
    await store.write(async (tx) => {
      await tx.articles.favorite(r.id, id);
      await tx.comments.insert({ articleId: id, authorId: r.id, body: "c", now: T0 });
      await tx.articles.delete(id);
    });
    expect(await store.read.articles.bySlug("fav")).toBeUndefined();
    expect(await store.read.articles.favoritedAmong(r.id, [id])).toEqual([]);
    expect(await store.read.comments.list(id, 0, page())).toEqual([]);
    expect(await searchWords(store.read.search, ["fav"], {}, page())).toEqual({ ids: [], count: 0 });
  });
});

describeEngines("profiles repository", (_engine, use) => {
  test("by username (ASCII case-insensitive); follow and unfollow are idempotent", async () => {
    const { store } = use();
    const a = await addUser(store, "Alice");
    const b = await addUser(store, "bob");
    const c = await addUser(store, "cy");
    expect(await store.read.profiles.byUsername("ALICE")).toEqual({
      id: a.id,
      username: "Alice",
      bio: null,
      image: null,
    });
    expect(await store.read.profiles.byUsername("nobody")).toBeUndefined();
    expect(await store.write((tx) => tx.profiles.follow(a.id, b.id))).toBe(true);
    expect(await store.write((tx) => tx.profiles.follow(a.id, b.id))).toBe(false);
    expect(await store.read.profiles.isFollowing(a.id, b.id)).toBe(true);
    expect(await store.read.profiles.isFollowing(b.id, a.id)).toBe(false);
    expect(await store.read.profiles.followingAmong(a.id, [b.id, c.id])).toEqual([b.id]);
    expect(await store.read.profiles.followingAmong(a.id, [])).toEqual([]);
    expect(await store.write((tx) => tx.profiles.unfollow(a.id, b.id))).toBe(true);
    expect(await store.write((tx) => tx.profiles.unfollow(a.id, b.id))).toBe(false);
    expect(await store.read.profiles.isFollowing(a.id, b.id)).toBe(false);
  });
});

describeEngines("comments repository", (_engine, use) => {
  test("oldest first with author fields and the viewer's following flag; head; delete", async () => {
    const { store } = use();
    const a = await addUser(store, "a");
    const v = await addUser(store, "v");
    const art = await addArticle(store, a.id, { slug: "c" });
    const c1 = await store.write((tx) =>
      tx.comments.insert({ articleId: art, authorId: a.id, body: "first", now: T0 }),
    );
    const c2 = await store.write((tx) =>
      tx.comments.insert({ articleId: art, authorId: v.id, body: "second", now: T0 + 1 }),
    );
    await store.write((tx) => tx.profiles.follow(v.id, a.id));
    const seen = await store.read.comments.list(art, v.id, page());
    expect(seen.map((c) => [c.id, c.body, c.authorUsername, c.following])).toEqual([
      [c1, "first", "a", true],
      [c2, "second", "v", false],
    ]);
    expect(seen[0]).toMatchObject({
      articleId: art,
      createdAt: T0,
      updatedAt: T0,
      authorId: a.id,
      authorBio: null,
    });
    expect((await store.read.comments.list(art, 0, page())).map((c) => c.following)).toEqual([false, false]);
    expect((await store.read.comments.list(art, 0, page(1, 1))).map((c) => c.id)).toEqual([c2]);
    expect(await store.read.comments.one(c1, v.id)).toMatchObject({ id: c1, following: true });
    expect(await store.read.comments.head(c2)).toEqual({ id: c2, articleId: art, authorId: v.id, slug: "c" });
    await store.write((tx) => tx.comments.delete(c1));
    expect(await store.read.comments.one(c1, 0)).toBeUndefined();
    expect(await store.read.comments.head(c1)).toBeUndefined();
  });
});

describeEngines("tags repository", (_engine, use) => {
  test("tags in use, sorted by code point whatever the locale", async () => {
    const { store } = use();
    const a = await addUser(store, "a");
    await addArticle(store, a.id, { slug: "t1", tags: ["b", "B", "é", "a", "Z", "😀", "ｚ"] });
    // Code point order (SQLite's BINARY): upper case before lower, "ｚ" (U+FF5A) before "😀" (U+1F600),
    // where JS's default sort (UTF-16 units) would put the emoji first.
    expect(await store.read.tags.inUse()).toEqual(["B", "Z", "a", "b", "é", "ｚ", "😀"]);
  });
});
