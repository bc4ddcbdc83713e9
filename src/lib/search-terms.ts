/**
 * Reader text → the words to search for. Security model: nothing the reader types ever reaches an engine as
 * query syntax. The text is cut into words (runs of letters, digits and marks, the characters FTS5's
 * unicode61 tokenizer keeps); `AND`, `OR`, `NOT`, `NEAR(…)`, `*`, `^`, `+`, column filters (`title:`),
 * parentheses and quotes are therefore either separators or plain words to look for. Each engine quotes the
 * words in its own syntax (src/infra/<engine>/repos/search.ts). The terms are ANDed: every word must occur
 * (in any column), as search boxes do. What each word matches (whole words, the last one also as a prefix;
 * CJK and other unspaced scripts as substrings) is defined in ./search-text.ts.
 *
 * Limits bound the work one query can ask for: at most MAX_TERMS distinct words of at most MAX_TERM_CHARS
 * characters each (longer words are cut; the route also caps the whole text).
 */

export const MAX_TERMS = 12;
export const MAX_TERM_CHARS = 64;

const word = /[\p{L}\p{N}\p{M}\p{Co}]+/gu;

/** The words that will be searched for, lower-cased for dedupe only (FTS5 folds case itself). */
export function searchTerms(text: string): string[] {
  const seen = new Set<string>();
  const terms: string[] = [];
  for (const match of text.normalize("NFKC").matchAll(word)) {
    // A word of combining marks alone has nothing the tokenizer would index.
    if (!/[\p{L}\p{N}\p{Co}]/u.test(match[0])) continue;
    const term = [...match[0]].slice(0, MAX_TERM_CHARS).join("");
    const folded = term.toLowerCase();
    if (seen.has(folded)) continue;
    seen.add(folded);
    terms.push(term);
    if (terms.length === MAX_TERMS) break;
  }
  return terms;
}
