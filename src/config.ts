/**
 * Configuration: the environment (plus CLI flags, applied by main.ts as env overrides) validated once at
 * start-up against a TypeBox schema, then frozen. Every problem is listed, each naming its variable, and the
 * process exits non-zero; nothing is read at build time. Names carry their units.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type Static, Type as T, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

const Port = T.Integer({ minimum: 0, maximum: 65535 });
const Positive = (d: number, max = Number.MAX_SAFE_INTEGER) =>
  T.Integer({ minimum: 1, maximum: max, default: d });

/** Each variable: schema (with default), description (for --help and the README). */
export const configVars = {
  NODE_ENV: {
    schema: T.Union([T.Literal("development"), T.Literal("production"), T.Literal("test")], {
      default: "development",
    }),
    doc: "development | production | test. Production requires JWT_SECRET and turns pretty logs off.",
  },
  PORT: { schema: { ...Port, default: 3000 }, doc: "TCP port to listen on (0 picks a free one)." },
  HOST: { schema: T.String({ minLength: 1, default: "0.0.0.0" }), doc: "Interface to bind." },
  DATA_DIR: {
    schema: T.String({ minLength: 1, default: "./data" }),
    doc: "Directory for the database and the generated development secret.",
  },
  DATABASE_URL: {
    schema: T.String({ default: "" }),
    doc: "SQLite file path (or `:memory:`). Default: `$DATA_DIR/quire.db`.",
  },
  JWT_SECRET: {
    schema: T.String({ default: "" }),
    doc: "HMAC key for access tokens, ≥ 32 bytes. Required in production; in development one is generated and kept in `$DATA_DIR/jwt-secret`.",
  },
  JWT_TTL_SECONDS: {
    schema: Positive(3600, 31_536_000),
    doc: "Access-token lifetime. Front ends that never refresh (most RealWorld clients) want a longer one, e.g. 604800.",
  },
  JWT_ISSUER: { schema: T.String({ minLength: 1, default: "quire" }), doc: "`iss` claim set and required." },
  JWT_AUDIENCE: {
    schema: T.String({ minLength: 1, default: "quire-api" }),
    doc: "`aud` claim set and required.",
  },
  LOG_LEVEL: {
    schema: T.Union(
      ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => T.Literal(l)),
      { default: "info" },
    ),
    doc: "fatal | error | warn | info | debug | trace | silent.",
  },
  BODY_LIMIT_BYTES: { schema: Positive(1_048_576), doc: "Largest request body accepted; larger gets 413." },
  PASSWORD_MEMORY_COST_KIB: {
    schema: Positive(19_456, 4_194_304),
    doc: "argon2id memory cost (KiB). OWASP's minimum is 19 MiB.",
  },
  PASSWORD_TIME_COST: { schema: Positive(2, 64), doc: "argon2id iterations." },
  DEFAULT_ROLE: {
    schema: T.Union([T.Literal("editor"), T.Literal("viewer")], { default: "editor" }),
    doc: "Role given to new accounts: editor (may write articles) or viewer.",
  },
  CORS_ORIGINS: {
    schema: T.String({ default: "" }),
    doc: "Comma-separated origins allowed by CORS (`*`: any origin; credentials are never allowed). Empty: none in production and test, `*` in development.",
  },
} as const satisfies Record<string, { schema: TSchema; doc: string }>;

type Vars = typeof configVars;
export type RawConfig = { [K in keyof Vars]: Static<Vars[K]["schema"]> };

export interface Config extends Omit<RawConfig, "CORS_ORIGINS"> {
  readonly CORS_ORIGINS: readonly string[];
  /** True when the secret was generated for development rather than configured. */
  readonly JWT_SECRET_GENERATED: boolean;
}

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

const schema = T.Object(Object.fromEntries(Object.entries(configVars).map(([k, v]) => [k, v.schema])));

/**
 * Validate `env` and resolve derived values (database path, development secret). Throws ConfigError listing
 * every problem. Has one side effect in development: creating the data directory and the secret file.
 */
export function loadConfig(env: Record<string, string | undefined>): Readonly<Config> {
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(configVars)) {
    const value = env[key];
    if (value !== undefined && value !== "") input[key] = value;
  }
  const converted = Value.Convert(schema, Value.Default(schema, input));
  const problems = [...Value.Errors(schema, converted)].map(
    (e) => `${e.path.slice(1)}: ${e.message} (got ${JSON.stringify(input[e.path.slice(1)] ?? null)})`,
  );
  if (problems.length > 0) throw new ConfigError(problems);
  const raw = converted as RawConfig;

  const dataDir = resolve(raw.DATA_DIR);
  const databaseUrl = raw.DATABASE_URL === "" ? join(dataDir, "quire.db") : raw.DATABASE_URL;
  let secret = raw.JWT_SECRET;
  let generated = false;
  if (secret !== "" && Buffer.byteLength(secret) < 32) {
    problems.push("JWT_SECRET: must be at least 32 bytes");
  } else if (secret === "" && raw.NODE_ENV === "production") {
    problems.push("JWT_SECRET: required when NODE_ENV=production (at least 32 bytes)");
  } else if (secret === "") {
    secret = developmentSecret(dataDir);
    generated = true;
  }
  const origins = raw.CORS_ORIGINS.split(",")
    .map((o) => o.trim())
    .filter(Boolean);
  if (origins.length === 0 && raw.NODE_ENV === "development") origins.push("*");
  for (const o of origins) {
    if (o !== "*" && !/^https?:\/\/[^/\s]+$/.test(o)) problems.push(`CORS_ORIGINS: "${o}" is not an origin`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return Object.freeze({
    ...raw,
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl === ":memory:" ? databaseUrl : resolve(databaseUrl),
    JWT_SECRET: secret,
    JWT_SECRET_GENERATED: generated,
    CORS_ORIGINS: Object.freeze(origins),
  });
}

/** A random secret kept in the data directory, so development tokens survive restarts. */
function developmentSecret(dataDir: string): string {
  const file = join(dataDir, "jwt-secret");
  if (existsSync(file)) {
    const kept = readFileSync(file, "utf8").trim();
    if (Buffer.byteLength(kept) >= 32) return kept;
  }
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(48).toString("base64url");
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** The variables and their defaults, for `--help` and the README. */
export function describeConfig(): string {
  return Object.entries(configVars)
    .map(([k, v]) => {
      const d = (v.schema as { default?: unknown }).default;
      const def = d === undefined || d === "" ? "" : ` [default: ${d}]`;
      return `  ${k.padEnd(26)}${v.doc}${def}`;
    })
    .join("\n");
}
