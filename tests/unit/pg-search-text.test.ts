/** The Postgres engine's search folding (src/infra/postgres/repos/search-text.ts), without a server. */
import { expect, test } from "bun:test";
import { documentText, fold, tsqueryText, wordsOf } from "../../src/infra/postgres/repos/search-text.ts";

test("folding drops case and Latin/Greek/Cyrillic accents, applies NFKC, keeps other letters", () => {
  expect(fold("Émile")).toBe("emile");
  expect(fold("ﬁle")).toBe("file");
  expect(fold("ΆΘΉΝΑ")).toBe("αθηνα");
  expect(fold("Ёлка")).toBe("елка");
  expect(fold("æble")).toBe("æble");
  expect(fold("ｶﾀｶﾅ")).toBe("カタカナ");
});

test("documents are words joined by spaces; CJK runs become overlapping pairs plus their last character", () => {
  expect(documentText("Mail user@Example.com, e-mail!")).toBe("mail user example com e mail");
  expect(documentText("東京タワーへ")).toBe("東京 京タ タワ ワー ーへ へ");
  expect(documentText("iPhone用ケース")).toBe("iphone 用ケ ケー ース ス");
  expect(documentText("京")).toBe("京");
});

test("queries: every term ANDed, the last also a prefix, CJK terms as adjacent pairs, quotes escaped", () => {
  expect(tsqueryText(["Postgres", "guide"])).toBe("'postgres' & 'guide':*");
  expect(tsqueryText(["東京タワー"])).toBe("('東京' <-> '京タ' <-> 'タワ' <-> 'ワー')");
  expect(tsqueryText(["東京"])).toBe("'東京'");
  expect(tsqueryText(["京", "rust"])).toBe("'京':* & 'rust':*");
  expect(tsqueryText(["a'b\\c"])).toBe("'a''b\\\\c':*");
  expect(tsqueryText([])).toBeUndefined();
  expect(tsqueryText(["\u0301"])).toBeUndefined();
});

test("raw text is cut into at most 12 distinct words", () => {
  expect(wordsOf("Hello, HELLO world! (AND) ✓")).toEqual(["Hello", "world", "AND"]);
  expect(wordsOf(Array.from({ length: 20 }, (_, i) => `w${i}`).join(" "))).toHaveLength(12);
});
