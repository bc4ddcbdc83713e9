import { describe, expect, test } from "bun:test";
import { slugify, slugSuffix } from "../../src/lib/slug.ts";

describe("slugify", () => {
  test.each([
    ["Hello World", "hello-world"],
    ["Test Article 179525806015827ed", "test-article-179525806015827ed"],
    ["  Leading and trailing  ", "leading-and-trailing"],
    ["Many   spaces -- and --- dashes", "many-spaces-and-dashes"],
    ["Crème brûlée à la carte", "creme-brulee-a-la-carte"],
    ["Ångström", "angstrom"],
    ["C++ & Rust: a/b?c#d%e", "c-rust-a-b-c-d-e"],
    ["UPPER lower MiXeD", "upper-lower-mixed"],
    ["ﬁne ligature", "fine-ligature"],
  ])("%p → %p", (input, expected) => {
    expect(slugify(input)).toBe(expected);
  });

  test.each(["", "   ", "!!!", "日本語", "🚀🚀"])("%p has no usable characters → 'article'", (input) => {
    expect(slugify(input)).toBe("article");
  });

  test("is cut at maxLength without a trailing hyphen", async () => {
    const slug = slugify(`${"a".repeat(79)} bbbb`);
    expect(slug).toBe("a".repeat(79));
    expect(slugify("word ".repeat(40))).toHaveLength(79);
    expect(slugify("word ".repeat(40)).endsWith("-")).toBe(false);
    expect(slugify("abcdef", 3)).toBe("abc");
  });

  test("output is always URL-path-safe", async () => {
    const inputs = ["a/b", "../etc/passwd", "a%2Fb", "tab\there", "new\nline", "q?x=1", "<script>"];
    for (const input of inputs) expect(slugify(input)).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });
});

describe("slugSuffix", () => {
  test("6 lowercase base-36 characters", async () => {
    for (let i = 0; i < 200; i++) expect(slugSuffix()).toMatch(/^[0-9a-z]{6}$/);
  });

  test("practically never repeats", async () => {
    const seen = new Set(Array.from({ length: 1000 }, () => slugSuffix()));
    expect(seen.size).toBeGreaterThan(995);
  });
});
