/**
 * What the search index holds and what a reader's text asks for, defined here rather than by an engine's
 * tokenizer, so SQLite and a Postgres twin (the same text in a tsvector) match the same articles.
 *
 * **Spaced scripts** (Latin, Cyrillic, Greek, Arabic, Hebrew, Indic …): the text goes to FTS5 as it is, NFKC
 * normalised (full-width `ｄｒａｇｏｎ` is `dragon`). FTS5's unicode61 tokenizer cuts it into words (runs of
 * letters and digits) and ignores case and accents. A query word matches that word; the **last** word of a
 * query of at least PREFIX_MIN_CHARS characters also matches the words it begins (`hel` finds `hello`), as a
 * search box that searches while you type expects.
 *
 * **Unspaced scripts** (Chinese, Japanese, Korean, Thai, Lao, Khmer, Myanmar) have no spaces to find words
 * by. Each run of their letters is indexed as its overlapping pairs of characters followed by its last
 * character: `日本語の` → `日本 本語 語の の`. A query run of two or more characters is the phrase of its pairs
 * (`日本語` → `"日本 本語"`), which occurs wherever the run occurs inside a longer one; a single character is
 * the prefix of the tokens it starts (`日` → `"日"*`: `日本`, or `日` ending a run). So these scripts match as
 * substrings, whatever the position, the way CJK search engines index them (bigrams: Lucene's CJKAnalyzer,
 * pg_bigm). A Korean word with its particle (`한국어를`) is found by `한국어`. A character is a letter or
 * digit with its combining marks (Thai vowel and tone signs stay on their consonant).
 *
 * Every word must match, in any column. ASCII text comes out of `indexText` unchanged, which is why only
 * articles with other characters were re-indexed when this was introduced (src/modules/search/setup.ts).
 */

/**
 * A letter or digit of a script written without spaces (Script_Extensions, so the Japanese long vowel mark
 * ー counts; punctuation such as 、 and 。 does not), with its combining marks. A lookahead rather than the
 * `v` flag's class intersection: JavaScriptCore runs that one several times slower.
 */
const UNIT = String.raw`(?=[\p{L}\p{N}])[\p{scx=Han}\p{scx=Hira}\p{scx=Kana}\p{scx=Hang}\p{scx=Thai}\p{scx=Laoo}\p{scx=Khmr}\p{scx=Mymr}]\p{M}*`;
const RUNS = new RegExp(`(?:${UNIT})+`, "gu");
const SPLIT = new RegExp(`((?:${UNIT})+)`, "u");

/** The last query word matches as a prefix only from this length: one or two letters would match nearly all. */
export const PREFIX_MIN_CHARS = 3;

/** A run's characters, each with its marks (most runs have none: then they are its code points). */
function unitsOf(run: string): string[] {
  if (/\p{M}/u.test(run)) return run.match(/\P{M}\p{M}*/gu) ?? [];
  const units: string[] = [];
  for (let i = 0; i < run.length; ) {
    const width = run.codePointAt(i)! > 0xffff ? 2 : 1;
    units.push(run.slice(i, i + width));
    i += width;
  }
  return units;
}
const pairsOf = (units: string[]) => units.slice(1).map((unit, i) => units[i] + unit);

/** A column's text as the index stores it. */
export function indexText(text: string): string {
  return text.normalize("NFKC").replace(RUNS, (run) => {
    const units = unitsOf(run);
    return ` ${[...pairsOf(units), units.at(-1)].join(" ")} `;
  });
}

/**
 * One query word (a run of letters, digits and marks, as src/lib/search-terms.ts cuts them) as an FTS5 phrase: its
 * spaced parts as they are, its unspaced runs as pairs, `*` when the phrase's last token is a prefix.
 */
export function wordPhrase(word: string, last: boolean): string {
  const parts = word.split(SPLIT);
  const tokens: string[] = [];
  let prefix = false;
  parts.forEach((part, i) => {
    if (part === "") return;
    const final = i === parts.length - 1 || parts.slice(i + 1).every((p) => p === "");
    if (i % 2 === 0) {
      tokens.push(part);
      prefix = final && last && [...part].length >= PREFIX_MIN_CHARS;
      return;
    }
    const units = unitsOf(part);
    if (units.length === 1) {
      tokens.push(units[0]!);
      // Inside a word the run is known to end here (other letters follow), as its last unit is indexed.
      prefix = final;
      return;
    }
    tokens.push(...pairsOf(units));
    // Followed by other letters, the run must end here: its last unit is the token before them.
    if (!final) tokens.push(units.at(-1)!);
    prefix = false;
  });
  return `"${tokens.join(" ")}"${prefix ? "*" : ""}`;
}
