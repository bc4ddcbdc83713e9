/**
 * One text order for every engine: Unicode code point order. It is what SQLite's default BINARY collation
 * gives on UTF-8 text (memcmp of UTF-8 bytes orders as code points do) and what Postgres gives with
 * `COLLATE "C"`, and it does not depend on a locale or an ICU version, so a list sorted here, in SQLite or in
 * Postgres comes out the same. JavaScript's own `<` compares UTF-16 code units, which differs from code point
 * order between astral characters (emoji, rare CJK) and U+E000–U+FFFF (full-width forms, private use).
 */
export function compareCodePoints(a: string, b: string): number {
  const end = Math.min(a.length, b.length);
  for (let i = 0; i < end; ) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}
