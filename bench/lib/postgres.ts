/**
 * The benchmark's Postgres side: the corpus bench/seed.ts wrote into an SQLite file, copied row for row into a
 * migrated Postgres database (same ids, same data), with the search entries written as Quire writes them
 * (src/infra/postgres/repos/search-text.ts), then ANALYZEd. Copying keeps the two engines' corpora identical
 * and reuses the one seeding code.
 */
import { Database } from "bun:sqlite";
import { SQL } from "bun";
import { documentVector, SearchTokenizer } from "../../src/infra/postgres/repos/search-text.ts";

/** Columns copied per table with their Postgres types, in insert order (foreign keys first). */
const tables: Record<string, Record<string, string>> = {
  users: {
    id: "bigint",
    username: "text",
    email: "text",
    password_hash: "text",
    bio: "text",
    image: "text",
    role: "text",
    suspended: "boolean",
    created_at: "bigint",
    updated_at: "bigint",
  },
  tags: { id: "bigint", name: "text" },
  articles: {
    id: "bigint",
    slug: "text",
    title: "text",
    description: "text",
    body: "text",
    author_id: "bigint",
    favorites_count: "int",
    created_at: "bigint",
    updated_at: "bigint",
  },
  article_tags: { article_id: "bigint", tag_id: "bigint" },
  comments: {
    id: "bigint",
    article_id: "bigint",
    author_id: "bigint",
    body: "text",
    created_at: "bigint",
    updated_at: "bigint",
  },
  favorites: { user_id: "bigint", article_id: "bigint", created_at: "bigint" },
  follows: { follower_id: "bigint", followee_id: "bigint", created_at: "bigint" },
};
const CHUNK = 5_000;

/**
 * Copy the seeded corpus of `file` into the (migrated, empty) database at `url`: each table in chunks, one
 * `insert … select from unnest(<one array per column>)` per chunk (4× faster than a multi-row VALUES).
 */
export async function copyCorpus(file: string, url: string): Promise<{ ms: number }> {
  const started = performance.now();
  const sqlite = new Database(file, { readonly: true });
  const sql = new SQL({ url, max: 1 });
  try {
    for (const [table, types] of Object.entries(tables)) {
      const columns = Object.keys(types);
      const select = sqlite.query(`select ${columns.join(", ")} from ${table} order by rowid`).values();
      const unnest = columns.map((c, i) => `$${i + 1}::${types[c]}[]`).join(", ");
      const insert = `insert into ${table} (${columns.join(", ")}) select * from unnest(${unnest})`;
      for (let from = 0; from < select.length; from += CHUNK) {
        const chunk = select.slice(from, from + CHUNK);
        const arrays = columns.map((c, i) =>
          chunk.map((row) => (types[c] === "boolean" ? row[i] === 1 : row[i])),
        );
        await sql.unsafe(insert, arrays);
      }
      if ("id" in types)
        await sql.unsafe(
          `select setval(pg_get_serial_sequence('${table}', 'id'), (select max(id) from ${table}))`,
        );
    }
    await writeSearchEntries(sqlite, sql);
    await sql`analyze`;
  } finally {
    await sql.close();
    sqlite.close();
  }
  return { ms: performance.now() - started };
}

async function writeSearchEntries(sqlite: Database, sql: SQL): Promise<void> {
  const tokenizer = new SearchTokenizer();
  const rows = sqlite.query<
    { id: number; title: string; description: string; body: string; tags: string },
    []
  >(
    `select a.id, a.title, a.description, a.body, coalesce((select group_concat(t.name, ' ') from article_tags at
       join tags t on t.id = at.tag_id where at.article_id = a.id), '') as tags from articles a order by a.id`,
  );
  let batch: { article_id: number; document: string }[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await sql`insert into articles_search (article_id, document)
      select a, d::tsvector from unnest(${batch.map((b) => b.article_id)}::bigint[], ${batch.map((b) => b.document)}::text[]) as x(a, d)`;
    batch = [];
  };
  try {
    for (const r of rows.iterate()) {
      const document = documentVector(tokenizer, [
        { text: r.title, weight: "A" },
        { text: r.tags, weight: "B" },
        { text: r.description, weight: "C" },
        { text: r.body, weight: "D" },
      ]);
      batch.push({ article_id: r.id, document });
      if (batch.length === CHUNK) await flush();
    }
    await flush();
  } finally {
    tokenizer.close();
  }
}
