import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { slugify, slugSuffix } from "../../src/lib/slug.ts";

describe("slugify", () => {
  test.each([
    ["Hello World", "hello-world"],
    ["Test Article 179525806015827ed", "test-article-179525806015827ed"],
    ["  Leading and trailing  ", "leading-and-trailing"],
    ["Many   spaces -- and --- dashes", "many-spaces-and-dashes"],
    ["Crème brûlée à la carte", "creme-brulee-a-la-carte"],
    // German spelling of umlauts (the library's default, as in @sindresorhus/slugify): ö → oe, ß → ss.
    ["Ångström", "angstroem"],
    ["Straße Ärger", "strasse-aerger"],
    ["Привет мир", "privet-mir"],
    ["Ελληνικά γλώσσα", "ellinika-glossa"],
    ["ქართული ენა", "qartuli-ena"],
    ["Łódź İstanbul Ǆemal", "lodz-istanbul-dzemal"],
    ["ｆｕｌｌ ｗｉｄｔｈ", "full-width"],
    ["zero\u200bwidth joiner\u200d and bidi\u202e", "zerowidth-joiner-and-bidi"],
    ["C++ & Rust: a/b?c#d%e", "c-rust-a-b-c-d-e"],
    ["UPPER lower MiXeD", "upper-lower-mixed"],
    ["ﬁne ligature", "fine-ligature"],
  ])("%p → %p", (input, expected) => {
    expect(slugify(input)).toBe(expected);
  });

  test.each([
    ["日本語のタイトル", "日本語のタイトル"],
    ["中文标题", "中文标题"],
    ["한국어 제목", "한국어-제목"],
    ["ภาษาไทย", "ภาษาไทย"],
    // Combining marks stay on their letters (virama, vowel signs): "हिनदी" would be another word.
    ["हिन्दी भाषा", "हिन्दी-भाषा"],
    ["العربية", "العربية"],
    ["עברית", "עברית"],
    ["Café 日本 Привет!", "cafe-日本-privet"],
    ["ｶﾀｶﾅ", "カタカナ"],
  ])("%p keeps the letters that have no transliteration: %p", (input, expected) => {
    expect(slugify(input)).toBe(expected);
  });

  test.each(["", "   ", "!!!", "🚀🚀", "\u0301\u0301", "\u200b"])(
    "%p has no usable characters → 'article'",
    (input) => {
      expect(slugify(input)).toBe("article");
    },
  );

  test("is cut at maxLength characters, never between a letter and its combining marks", async () => {
    expect(slugify("中".repeat(100))).toBe("中".repeat(80));
    // "दी" is a letter and a vowel sign (a combining mark): five of them, whole.
    expect(slugify("दी".repeat(50), 5)).toBe("दी".repeat(5));
    expect(slugify("🐉a".repeat(50), 3)).toBe("a-a");
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

  test("any text: letters, digits and marks in hyphen-separated words, NFC, stable, and round-trips encodeURIComponent", async () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 120 }), (input) => {
        const slug = slugify(input);
        expect(slug).toMatch(/^[\p{L}\p{N}][\p{L}\p{N}\p{M}]*(?:-[\p{L}\p{N}][\p{L}\p{N}\p{M}]*)*$/u);
        expect(slug.normalize("NFC")).toBe(slug);
        expect(slugify(slug)).toBe(slug);
        expect(decodeURIComponent(encodeURIComponent(slug))).toBe(slug);
        expect([...slug.replace(/\p{M}/gu, "")].length).toBeLessThanOrEqual(80);
      }),
      { numRuns: 1000 },
    );
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
