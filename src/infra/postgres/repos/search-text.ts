/**
 * How text becomes searchable on Postgres, and how a reader's words become a tsquery. The folding is done
 * here, in JavaScript, for the documents and the queries alike, and Postgres only stores and matches the
 * result with the built-in `simple` configuration (no stemming, no stop words). So matching is the same on
 * every server, whatever its locale, and needs no contrib extension (`unaccent`, `pg_trgm`), which managed
 * services and minimal images do not always have.
 *
 * What matches (terms are ANDed, each in any column):
 * - A word is a run of letters, digits and marks (as src/lib/search-terms.ts cuts the reader's text, and as
 *   SQLite's unicode61 tokenizer does), so "user@example.com" is the three words user, example and com, and
 *   "e-mail" is e and mail, on both sides.
 * - Case and accents never matter: NFKC, lower case, then the combining accents of Latin, Greek and Cyrillic
 *   are dropped ("Émile" = "emile", "ﬁle" = "file"), like unicode61's remove_diacritics. Ligatures such as
 *   "æ" stay letters of their own (unaccent would have made it "ae"; unicode61 does not either).
 * - Whole words, except the reader's last word, which also matches as a prefix ("postg" finds "postgres"),
 *   so results follow the reader as they type.
 * - Chinese, Japanese and Korean have no spaces between words, so their runs are indexed as overlapping
 *   two-character pieces (東京タワー → 東京 京タ タワ ワー, plus the last character alone), and a CJK term
 *   matches as a substring: its pieces must occur next to each other in that order (東京 finds 東京タワー and
 *   行く東京; タワ finds it too). A single character matches any piece that starts with it.
 *
 * Known limits (documented for operators): a substring of a non-CJK word does not match ("gres" does not find
 * "postgres"); Thai, Lao, Khmer and Myanmar runs are whole words; Postgres keeps word positions up to 16,383,
 * so in a very long body a CJK term of three or more characters is found only in roughly its first 16,000
 * words (single words are found anywhere).
 */

const WORD = /[\p{L}\p{N}\p{M}\p{Co}]+/gu;
const CJK = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}]+/gu;
const ACCENTS = /[\u0300-\u036f]/g;

/** Reader text → terms, for callers that still pass the raw text (the words src/lib/search-terms.ts cuts). */
export function wordsOf(text: string, max = 12): string[] {
  const seen = new Set<string>();
  const words: string[] = [];
  for (const [word] of text.normalize("NFKC").matchAll(WORD)) {
    const folded = fold(word);
    if (!folded || seen.has(folded)) continue;
    seen.add(folded);
    words.push(word);
    if (words.length === max) break;
  }
  return words;
}

/** Case and accents folded away; "" for a word of marks alone. */
export function fold(word: string): string {
  return word.normalize("NFKC").toLowerCase().normalize("NFD").replace(ACCENTS, "").normalize("NFC");
}

type Piece = { cjk: false; text: string } | { cjk: true; chars: string[] };

/** A folded word cut into its CJK runs and the rest. */
function pieces(folded: string): Piece[] {
  const out: Piece[] = [];
  let last = 0;
  for (const match of folded.matchAll(CJK)) {
    const start = match.index ?? 0;
    if (start > last) out.push({ cjk: false, text: folded.slice(last, start) });
    out.push({ cjk: true, chars: [...match[0]] });
    last = start + match[0].length;
  }
  if (last < folded.length) out.push({ cjk: false, text: folded.slice(last) });
  return out;
}

/** Most tokens one column contributes: keeps the largest body (100,000 CJK characters) under tsvector's 1 MB. */
const MAX_TOKENS = 60_000;

/** A column's text as the space-separated tokens `to_tsvector('simple', …)` indexes. */
export function documentText(text: string): string {
  const tokens: string[] = [];
  for (const [word] of text.normalize("NFKC").matchAll(WORD)) {
    for (const piece of pieces(fold(word))) {
      if (!piece.cjk) {
        if (piece.text) tokens.push(piece.text);
        continue;
      }
      const c = piece.chars;
      for (let i = 0; i + 1 < c.length; i++) tokens.push(c[i]! + c[i + 1]!);
      tokens.push(c[c.length - 1]!);
    }
    if (tokens.length >= MAX_TOKENS) break;
  }
  return tokens.slice(0, MAX_TOKENS).join(" ");
}

/** A quoted tsquery operand: the token is taken literally (quotes and backslashes escaped). */
const quote = (token: string) => `'${token.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;

/**
 * Terms → the text for `to_tsquery('simple', …)`: every term must match; the last one also as a prefix.
 * Undefined when no term has anything to search for.
 */
export function tsqueryText(terms: readonly string[]): string | undefined {
  const parts: string[] = [];
  terms.forEach((term, t) => {
    const isLast = t === terms.length - 1;
    const cut = pieces(fold(term)).filter((p) => (p.cjk ? p.chars.length > 0 : p.text.length > 0));
    cut.forEach((piece, p) => {
      if (!piece.cjk) {
        parts.push(quote(piece.text) + (isLast && p === cut.length - 1 ? ":*" : ""));
        return;
      }
      const c = piece.chars;
      if (c.length === 1) {
        parts.push(`${quote(c[0]!)}:*`);
        return;
      }
      const grams: string[] = [];
      for (let i = 0; i + 1 < c.length; i++) grams.push(quote(c[i]! + c[i + 1]!));
      parts.push(grams.length === 1 ? grams[0]! : `(${grams.join(" <-> ")})`);
    });
  });
  return parts.length > 0 ? parts.join(" & ") : undefined;
}
