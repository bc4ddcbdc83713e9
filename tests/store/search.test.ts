/**
 * SearchRepo through the Store: what matches (every term, any column, case and accents folded, the last term
 * also as a prefix, CJK as substrings), ranking by column weight, filters, totals, and that reader text is
 * never query syntax. The SQLite engine is gaining prefix and CJK matching at the same time; where the two
 * engines are meant to differ, the test says so.
 */
import { expect, test } from "bun:test";
import { describeEngines } from "./engines.ts";
import { addArticle, addUser, page, searchWords } from "./fixtures.ts";

describeEngines("search repository", (_engine, use) => {
  const ids = async (terms: string[], filter = {}) =>
    (await searchWords(use().store.read.search, terms, filter, page())).ids;

  test("every term must match, in any column; case and accents do not matter", async () => {
    const { store } = use();
    const a = await addUser(store, "a");
    const t = await addArticle(store, a.id, { slug: "t", title: "Émile writes Postgres", body: "nothing" });
    const d = await addArticle(store, a.id, { slug: "d", title: "x", description: "about ÉMILE and sqlite" });
    const b = await addArticle(store, a.id, {
      slug: "b",
      title: "y",
      body: "emile mentions POSTGRES in a body",
    });
    const g = await addArticle(store, a.id, { slug: "g", title: "z", tags: ["postgres", "émile"] });
    expect((await ids(["emile"])).sort()).toEqual([t, d, b, g].sort());
    expect((await ids(["Émile", "postgres"])).sort()).toEqual([t, b, g].sort());
    expect(await ids(["emile", "sqlite"])).toEqual([d]);
    expect(await ids(["emile", "mysql"])).toEqual([]);
    expect(await ids([])).toEqual([]);
  });

  test("ranking follows the column weights (title, tags, description, body), then the newest", async () => {
    const { store } = use();
    const a = await addUser(store, "a");
    const body = await addArticle(store, a.id, { slug: "body", title: "x", body: "rust" });
    const title = await addArticle(store, a.id, { slug: "title", title: "rust", body: "x" });
    const desc = await addArticle(store, a.id, { slug: "desc", title: "x", description: "rust" });
    const tag = await addArticle(store, a.id, { slug: "tag", title: "x", tags: ["rust"] });
    const body2 = await addArticle(store, a.id, { slug: "body2", title: "x", body: "rust" });
    expect(await ids(["rust"])).toEqual([title, tag, desc, body2, body]);
  });

  test("the last term also matches as a prefix; the others are whole words", async () => {
    const { store } = use();
    const a = await addUser(store, "a");
    const p = await addArticle(store, a.id, { slug: "p", title: "postgres replication guide" });
    expect(await ids(["postg"])).toEqual([p]);
    expect(await ids(["replication", "gui"])).toEqual([p]);
    expect(await ids(["postg", "guide"])).toEqual([]); // "postg" is not the last term
    expect(await ids(["gres"])).toEqual([]); // infixes of non-CJK words do not match (both engines: FTS5 too)
  });

  test("words are runs of letters and digits: e-mail addresses and URLs are searchable by their parts", async () => {
    const { store } = use();
    const a = await addUser(store, "a");
    const m = await addArticle(store, a.id, {
      slug: "m",
      body: "write to user@example.com or see https://quire.dev/docs/v2",
    });
    expect(await ids(["example"])).toEqual([m]);
    expect(await ids(["quire", "docs", "v2"])).toEqual([m]);
  });

  test("Chinese and Japanese match as substrings", async () => {
    const { store } = use();
    const a = await addUser(store, "a");
    const tokyo = await addArticle(store, a.id, { slug: "tokyo", title: "東京タワーへ行く" });
    const kyoto = await addArticle(store, a.id, { slug: "kyoto", body: "京都の秋" });
    expect(await ids(["東京"])).toEqual([tokyo]);
    expect(await ids(["タワー"])).toEqual([tokyo]);
    expect(await ids(["京都"])).toEqual([kyoto]);
    expect(await ids(["東京都"])).toEqual([]); // the pieces must be next to each other
    expect((await ids(["京"])).sort()).toEqual([tokyo, kyoto].sort()); // one character: anywhere
    expect(await ids(["行く", "東京"])).toEqual([tokyo]);
  });

  test("filters, paging and totals", async () => {
    const { store } = use();
    const a = await addUser(store, "a");
    const b = await addUser(store, "b");
    const r = await addUser(store, "r");
    const a1 = await addArticle(store, a.id, { slug: "a1", title: "bun", tags: ["js"] });
    const b1 = await addArticle(store, b.id, { slug: "b1", title: "bun", tags: ["js"] });
    const a2 = await addArticle(store, a.id, { slug: "a2", title: "bun" });
    await store.write((tx) => tx.articles.favorite(r.id, b1));
    const search = (filter: object, p = page()) => searchWords(store.read.search, ["bun"], filter, p);
    expect(await search({}, page(2, 0))).toEqual({ ids: [a2, b1], count: 3 });
    expect(await search({}, page(2, 2))).toEqual({ ids: [a1], count: 3 });
    expect(await search({ tag: "js" })).toEqual({ ids: [b1, a1], count: 2 });
    expect(await search({ author: a.id })).toEqual({ ids: [a2, a1], count: 2 });
    expect(await search({ favorited: r.id })).toEqual({ ids: [b1], count: 1 });
    expect(await search({ tag: "js", author: b.id })).toEqual({ ids: [b1], count: 1 });
    expect(await search({ tag: "nope" })).toEqual({ ids: [], count: 0 });
  });

  test("the entry follows the article: reindex after an update, gone with the article", async () => {
    const { store } = use();
    const a = await addUser(store, "a");
    const id = await addArticle(store, a.id, { slug: "x", title: "elephant" });
    await store.write(async (tx) => {
      await tx.articles.update(id, { slug: "x", title: "giraffe", updatedAt: 1 });
      await tx.articles.reindex(id);
    });
    expect(await ids(["elephant"])).toEqual([]);
    expect(await ids(["giraffe"])).toEqual([id]);
    await store.write((tx) => tx.articles.delete(id));
    expect(await ids(["giraffe"])).toEqual([]);
  });

  test("reader text is never query syntax", async () => {
    const { store } = use();
    const a = await addUser(store, "a");
    const id = await addArticle(store, a.id, { slug: "s", title: "it's a b:c test" });
    for (const hostile of ["'", "\\", ":*", "&", "|", "!", "<->", "''':*", "a'b", "(", "))"]) {
      const found = await searchWords(store.read.search, [hostile], {}, page());
      expect(found.count).toBe(found.ids.length);
    }
    expect(await ids(["it", "s", "test"])).toEqual([id]);
    // A long CJK body (100,000 characters) is indexed without exceeding the engine's limits.
    const long = await addArticle(store, a.id, { slug: "long", body: "漢字かなカナ".repeat(16_667) });
    expect(await ids(["かなカ"])).toEqual([long]);
  });
});
