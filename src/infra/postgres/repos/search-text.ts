/**
 * How an article becomes a tsvector and a reader's words a tsquery, so that Postgres matches exactly what
 * SQLite matches (the rules: src/lib/search-text.ts and src/lib/search-terms.ts).
 *
 * SQLite's FTS5 decides what a word is with its `unicode61` tokenizer (`remove_diacritics 2`): which
 * characters separate words (punctuation, symbols, combining marks of Indic scripts, private-use characters),
 * how case folds (including final sigma), which accents go (Latin ones: "Émile" = "emile"; Greek and Cyrillic
 * keep theirs). Re-implementing its tables would drift on the first character nobody thought of, so this
 * module asks the tokenizer itself: bun:sqlite is part of the runtime, and an in-memory FTS5 table with an
 * `fts5vocab` view over it turns any text into SQLite's token list (about 20 µs for a short article).
 * Postgres then only stores and compares those tokens: the tsvector and the tsquery are built as literals
 * (`::tsvector`, `::tsquery`), never through Postgres's text parser, whose word rules depend on the server's
 * locale and split things unicode61 does not (e-mail addresses, version numbers).
 *
 * The document: each column's text goes through `indexText` (NFKC; unspaced scripts as character pairs) and
 * the tokenizer; its tokens get consecutive positions and the column's weight (title A, tags B, description
 * C, body D). Columns are two positions apart, so a phrase (`<->`) never matches across two columns, as an
 * FTS5 phrase never does. The query: each term is the FTS5 phrase `wordPhrase` makes (the same function the
 * SQLite engine uses), tokenized the same way: tokens joined by `<->`, the last one `:*` when it is a prefix;
 * the terms ANDed. A term with no token (it holds only separators) is left out, as FTS5 ignores an empty
 * phrase; a query left with none matches nothing.
 *
 * Where Postgres's limits make it differ (bodies far larger than articles are): positions stop at 16,383 and
 * a lexeme keeps at most 256 of them, so past roughly the 16,000th word of a body a phrase (a CJK run of 3+
 * characters, or a word cut by a separator) no longer matches, while single words still do; a token over
 * 2,046 bytes is not indexed; a document stops growing before tsvector's 1 MB limit.
 */
import { Database } from "bun:sqlite";
import { indexText, wordPhrase } from "../../../lib/search-text.ts";

/** Postgres's tsvector limits (MAXENTRYPOS, MAXNUMPOS, MAXSTRLEN, and a margin under MAXSTRPOS). */
const MAX_POSITION = 16_383;
const MAX_POSITIONS_PER_LEXEME = 256;
const MAX_LEXEME_BYTES = 2_046;
const MAX_DOCUMENT_BYTES = 900_000;

/** Column weights, in position order. */
export type Weight = "A" | "B" | "C" | "D";

/** Texts tokenized in one go (an article's columns). */
const COLUMNS = 4;

/**
 * SQLite's unicode61 tokenizer on a private in-memory database: a contentless FTS5 table of four columns (one
 * insert per article, emptied with 'delete-all') and its fts5vocab view. Owned by one store; close() frees it.
 */
export class SearchTokenizer {
  private readonly db = new Database(":memory:");
  private readonly put;
  private readonly read;
  private readonly clear;

  constructor() {
    this.db.run(
      "create virtual table t using fts5(c0, c1, c2, c3, content = '', tokenize = 'unicode61 remove_diacritics 2')",
    );
    this.db.run("create virtual table v using fts5vocab(t, 'instance')");
    this.put = this.db.query<never, [string, string, string, string]>(
      "insert into t (rowid, c0, c1, c2, c3) values (1, ?, ?, ?, ?)",
    );
    this.read = this.db.query<{ term: string; col: string }, []>(
      "select term, col from v order by col, offset",
    );
    this.clear = this.db.query("insert into t (t) values ('delete-all')");
  }

  /** The tokens of each of (at most four) texts, in order, as unicode61 cuts and folds them. */
  tokenize(texts: readonly string[]): string[][] {
    if (texts.length > COLUMNS) throw new Error(`at most ${COLUMNS} texts at once`);
    const out = texts.map((): string[] => []);
    if (texts.every((t) => t === "")) return out;
    const [a = "", b = "", c = "", d = ""] = texts;
    this.put.run(a, b, c, d);
    try {
      for (const { term, col } of this.read.all()) out[Number(col.slice(1))]!.push(term);
    } finally {
      this.clear.run();
    }
    return out;
  }

  /** The tokens of one text. */
  tokens(text: string): string[] {
    return this.tokenize([text])[0]!;
  }

  close(): void {
    this.db.close();
  }
}

/** A quoted tsvector/tsquery lexeme: taken literally (quotes and backslashes doubled). */
const quote = (token: string) => `'${token.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;

/** The columns of an article as one tsvector literal (for `::tsvector`). */
export function documentVector(
  tokenizer: SearchTokenizer,
  columns: readonly { text: string; weight: Weight }[],
): string {
  const positions = new Map<string, string[]>();
  let position = 0;
  let bytes = 0;
  const tokens = tokenizer.tokenize(columns.map((c) => indexText(c.text)));
  columns.forEach(({ weight }, i) => {
    for (const token of tokens[i]!) {
      position = Math.min(position + 1, MAX_POSITION);
      let list = positions.get(token);
      if (!list) {
        const size = Buffer.byteLength(token) + 8;
        if (size - 8 > MAX_LEXEME_BYTES || bytes + size > MAX_DOCUMENT_BYTES) continue;
        bytes += size;
        list = [];
        positions.set(token, list);
      }
      if (list.length < MAX_POSITIONS_PER_LEXEME) {
        const at = `${position}${weight === "D" ? "" : weight}`;
        // Clamped positions repeat: Postgres would drop the repeats anyway.
        if (list.at(-1) !== at) list.push(at);
        bytes += 2;
      }
    }
    position = Math.min(position + 1, MAX_POSITION); // the gap that keeps phrases inside one column
  });
  return [...positions].map(([token, at]) => `${quote(token)}:${at.join(",")}`).join(" ");
}

/**
 * Terms (src/lib/search-terms.ts) → a tsquery literal (for `::tsquery`): every term must match, the last one
 * also as a prefix when `wordPhrase` says so. Undefined when no term has a token (nothing can match).
 */
export function queryText(tokenizer: SearchTokenizer, terms: readonly string[]): string | undefined {
  const parts: string[] = [];
  terms.forEach((term, i) => {
    const phrase = wordPhrase(term, i === terms.length - 1);
    const prefix = phrase.endsWith("*");
    const tokens = tokenizer.tokens(phrase.slice(1, phrase.lastIndexOf('"')));
    if (tokens.length === 0) return;
    const operands = tokens.map((token, t) => quote(token) + (prefix && t === tokens.length - 1 ? ":*" : ""));
    parts.push(operands.length === 1 ? operands[0]! : `(${operands.join(" <-> ")})`);
  });
  return parts.length > 0 ? parts.join(" & ") : undefined;
}
