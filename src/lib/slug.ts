/**
 * Slugs that say what the title says, in any script.
 *
 * 1. NFKC folds compatibility forms: full-width `ｆｕｌｌ` → `full`, `ﬁ` → `fi`, half-width katakana → katakana.
 * 2. Letters of the alphabets that have a standard ASCII spelling (Latin with its accents, Cyrillic, Greek,
 *    Armenian, Georgian) are transliterated by @sindresorhus/transliterate: "Привет мир" → `privet-mir`,
 *    "Crème brûlée" → `creme-brulee`, "Straße" → `strasse`.
 * 3. Letters of every other script are kept as they are: Chinese, Japanese, Korean, Arabic, Hebrew, Indic,
 *    Thai … have no transliteration that keeps their meaning (romanising Japanese kanji with Chinese
 *    readings, as the catch-all tables do, says nothing to either reader), so "日本語のタイトル" stays
 *    `日本語のタイトル`. The library is given only runs of the scripts in 2: it strips every combining mark
 *    it sees, which would turn Hindi "हिन्दी" into another word.
 * 4. Lower case (before 2, too); every run of anything but letters, digits and combining marks (spaces, punctuation, symbols,
 *    emoji) becomes one hyphen; invisible format characters (zero-width joiners, bidi controls, soft hyphens)
 *    are dropped; NFC.
 *
 * So a slug is letters, digits, marks and single inner hyphens: nothing that has a meaning in a URL path
 * (`/`, `%`, `?`, `#`, `.`). Clients percent-encode it (encodeURIComponent) like any path segment, and the
 * router decodes it back. A title with no letter or digit at all gets `article`.
 */
import transliterate from "@sindresorhus/transliterate";

/** Runs of letters (with their combining marks) of the scripts transliterated to ASCII. */
const SPELLED =
  /(?:[\p{Script=Latin}\p{Script=Cyrillic}\p{Script=Greek}\p{Script=Armenian}\p{Script=Georgian}]\p{M}*)+/gu;

/**
 * A run in ASCII. The library looks letters up before it strips their accents, so a letter it lacks with an
 * accent (Cyrillic "ӑ") comes out as its base letter ("а"), still Cyrillic: a second pass spells that.
 */
function spell(run: string): string {
  const once = transliterate(run);
  return (/[^ -~]/.test(once) ? transliterate(once) : once).toLowerCase();
}

export function slugify(text: string, maxLength = 80): string {
  const words = text
    .normalize("NFKC")
    .replace(/\p{Cf}/gu, "")
    // Lower case first: the library knows the lower-case forms of letters whose capitals it lacks (Mtavruli).
    .toLowerCase()
    .replace(SPELLED, spell)
    .normalize("NFC")
    .replace(/[^\p{L}\p{N}\p{M}]+/gu, "-")
    // A combining mark needs a letter before it.
    .replace(/(^|-)\p{M}+/gu, "$1")
    .replace(/-{2,}/g, "-")
    .replace(/^-/, "");
  // At most maxLength characters, each with its combining marks (never cut between a letter and its mark).
  const cut = new RegExp(`^(?:\\P{M}\\p{M}*){0,${maxLength}}`, "u").exec(words)![0].replace(/-+$/, "");
  return cut === "" ? "article" : cut;
}

/** A short random suffix to make a slug unique: 6 base-36 characters (~2 billion values). */
export function slugSuffix(): string {
  const n = crypto.getRandomValues(new Uint32Array(1))[0]!;
  return n.toString(36).padStart(6, "0").slice(-6);
}
