/**
 * Raw SQL against a test app's database, the same way on both engines, for asserting the state behind the
 * API (`row`, `count` in ./app.ts) and for arranging what the API cannot (an expired session, a job row).
 *
 * Write the SQL both engines read: `?` placeholders (turned into `$1, $2 …` on Postgres), `true`/`false` for
 * boolean columns (SQLite reads them as 1/0), no engine-only functions. Values come back as SQLite gives
 * them: integers (Postgres int8, counts) as numbers, booleans as 1/0, text as strings, NULL as null.
 *
 * On Postgres this is its own connection (int8 read as BigInt, so that no text is ever mistaken for a
 * number), opened on first use and closed with the app.
 */
import type { Database } from "bun:sqlite";
import { SQL } from "bun";

export interface TestDb {
  /** The first row, or null. */
  get<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T | null>;
  all<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
  /** A statement without results (several, separated by `;`, when there are no parameters). */
  run(sql: string, ...params: unknown[]): Promise<void>;
  close(): Promise<void>;
}

export function sqliteTestDb(connection: () => Database): TestDb {
  // biome-ignore lint/suspicious/noExplicitAny: bind parameters are test-supplied
  const bind = (params: unknown[]) => params as any[];
  return {
    async get<T>(sql: string, ...params: unknown[]) {
      return connection()
        .query(sql)
        .get(...bind(params)) as T | null;
    },
    async all<T>(sql: string, ...params: unknown[]) {
      return connection()
        .query(sql)
        .all(...bind(params)) as T[];
    },
    async run(sql: string, ...params: unknown[]) {
      connection().run(sql, bind(params));
    },
    async close() {},
  };
}

/** `?` → `$n` and `?n` → `$n` (SQLite's numbered form), outside quoted strings and identifiers. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  let out = "";
  let quote: string | undefined;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      out += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      out += c;
    } else if (c === "?") {
      out += /[0-9]/.test(sql[i + 1] ?? "") ? "$" : `$${++n}`;
    } else out += c;
  }
  return out;
}

/** A Postgres value as SQLite would have given it. */
function asSqlite(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  return value;
}

const asSqliteRow = (row: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, asSqlite(v)]));

export function postgresTestDb(url: string): TestDb {
  let client: SQL | undefined;
  const open = () => {
    client ??= new SQL({ url, max: 1, bigint: true, idleTimeout: 5 });
    return client;
  };
  const query = async (sql: string, params: unknown[]) =>
    ((await open().unsafe(numberPlaceholders(sql), params)) as Record<string, unknown>[]).map(asSqliteRow);
  return {
    async get<T>(sql: string, ...params: unknown[]) {
      return ((await query(sql, params))[0] ?? null) as T | null;
    },
    async all<T>(sql: string, ...params: unknown[]) {
      return (await query(sql, params)) as T[];
    },
    async run(sql: string, ...params: unknown[]) {
      if (params.length === 0) await open().unsafe(sql).simple();
      else await open().unsafe(numberPlaceholders(sql), params);
    },
    async close() {
      await client?.close();
      client = undefined;
    },
  };
}
