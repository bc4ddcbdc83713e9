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
import { configVars } from "./config-vars.ts";
import { trustedProxyProblem } from "./lib/client-address.ts";
import { isPostgresUrl, postgresUrlProblem } from "./lib/database-url.ts";

export { configVars } from "./config-vars.ts";

type Vars = typeof configVars;
export type RawConfig = { [K in keyof Vars]: Static<Vars[K]["schema"]> };

export interface Config extends Omit<RawConfig, "CORS_ORIGINS" | "TRUSTED_PROXIES" | "RATE_LIMIT_ENABLED"> {
  readonly CORS_ORIGINS: readonly string[];
  /** Validated entries (see src/lib/client-address.ts). */
  readonly TRUSTED_PROXIES: readonly string[];
  readonly RATE_LIMIT_ENABLED: boolean;
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

export interface LoadOptions {
  /**
   * The command signs access tokens (`serve`), so it needs JWT_SECRET: required in production, generated
   * into the data directory in development. Commands that sign nothing (backup, restore, migrate, admin)
   * pass false: JWT_SECRET is then neither required, nor checked, nor generated, and reads as "".
   */
  signsTokens?: boolean;
}

/**
 * What a variable accepts, in words. TypeBox's own messages ("Expected union value") never name the values.
 */
function expectation(schema: TSchema): string | undefined {
  const s = schema as {
    anyOf?: { const?: unknown }[];
    type?: string;
    minimum?: number;
    maximum?: number;
    minLength?: number;
    maxLength?: number;
  };
  if (s.anyOf?.every((o) => o.const !== undefined))
    return `must be one of: ${s.anyOf
      .map((o) => String(o.const))
      .filter((v) => v !== "")
      .join(", ")}`;
  if (s.type === "boolean") return "must be true or false";
  if (s.type === "integer") {
    const max = s.maximum === undefined || s.maximum >= Number.MAX_SAFE_INTEGER ? undefined : s.maximum;
    return max === undefined
      ? `must be a whole number of at least ${s.minimum ?? 0}`
      : `must be a whole number from ${s.minimum ?? 0} to ${max}`;
  }
  if (s.type === "string" && (s.minLength !== undefined || s.maxLength !== undefined))
    return `must be ${s.minLength ?? 0} to ${s.maxLength ?? "any number of"} characters long`;
  return undefined;
}

/**
 * Validate `env` and resolve derived values (database path, development secret). Throws ConfigError listing
 * every problem. Has one side effect, for a command that signs tokens in development: creating the data
 * directory and the secret file.
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  options: LoadOptions = {},
): Readonly<Config> {
  const signsTokens = options.signsTokens ?? true;
  const problems: string[] = [];
  const input: Record<string, unknown> = {};
  for (const [key, { schema: varSchema }] of Object.entries(configVars)) {
    const value = env[key]?.trim();
    if (value === undefined || value === "") continue;
    // TypeBox's Convert would quietly turn "1.5", "1e3" or "true" into 1: whole numbers must look like one.
    if ((varSchema as { type?: string }).type === "integer" && !/^-?[0-9]+$/.test(value)) {
      problems.push(`${key}: must be a whole number (got ${JSON.stringify(value)})`);
      continue;
    }
    input[key] = value;
  }
  const converted = Value.Convert(schema, Value.Default(schema, input));
  for (const e of Value.Errors(schema, converted)) {
    const key = e.path.slice(1);
    if (problems.some((p) => p.startsWith(`${key}:`))) continue;
    const wanted = expectation(configVars[key as keyof Vars]?.schema ?? e.schema) ?? e.message;
    problems.push(`${key}: ${wanted} (got ${JSON.stringify(input[key] ?? null)})`);
  }
  // Go on with the checks below even when the schema failed: every problem is listed in one go.
  const raw = converted as RawConfig;

  const dataDir = resolve(String(raw.DATA_DIR));
  const databaseUrl = raw.DATABASE_URL === "" ? join(dataDir, "quire.db") : raw.DATABASE_URL;
  const postgres = isPostgresUrl(databaseUrl);
  const urlProblem = postgres ? postgresUrlProblem(databaseUrl) : undefined;
  if (urlProblem) problems.push(`DATABASE_URL: ${urlProblem}`); // may hold a password: not echoed
  let secret = signsTokens ? raw.JWT_SECRET : "";
  let generated = false;
  if (secret !== "" && Buffer.byteLength(secret) < 32) {
    problems.push("JWT_SECRET: must be at least 32 bytes");
  } else if (signsTokens && secret === "" && raw.NODE_ENV === "production") {
    problems.push("JWT_SECRET: required when NODE_ENV=production (at least 32 bytes)");
  }
  const origins = String(raw.CORS_ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
  if (origins.length === 0 && raw.NODE_ENV === "development") origins.push("*");
  for (const o of origins) {
    if (o !== "*" && !/^https?:\/\/[^/\s]+$/.test(o)) problems.push(`CORS_ORIGINS: "${o}" is not an origin`);
  }
  const proxies = String(raw.TRUSTED_PROXIES ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of proxies) {
    const problem = trustedProxyProblem(p);
    if (problem) problems.push(`TRUSTED_PROXIES: ${problem}`);
  }
  if (raw.SMTP_URL !== "" && !/^smtps?:\/\/[^\s]+$/.test(raw.SMTP_URL))
    problems.push("SMTP_URL: must be an smtp:// or smtps:// URL"); // the value may hold a password: not echoed
  if (
    raw.REDIS_URL !== "" &&
    !/^(rediss?|redis\+tls|redis\+unix|redis\+tls\+unix):\/\/[^\s]+$/.test(raw.REDIS_URL)
  )
    problems.push("REDIS_URL: must be a redis://, rediss:// or redis+unix:// URL"); // may hold a password: not echoed
  if (raw.APP_URL !== "" && !/^https?:\/\/[^\s?#]+$/.test(raw.APP_URL))
    problems.push(
      `APP_URL: must be an http:// or https:// URL without query or fragment (got ${JSON.stringify(raw.APP_URL)})`,
    );
  if (raw.OTEL_EXPORTER_OTLP_ENDPOINT !== "" && !/^https?:\/\/[^\s]+$/.test(raw.OTEL_EXPORTER_OTLP_ENDPOINT))
    problems.push("OTEL_EXPORTER_OTLP_ENDPOINT: must be an http:// or https:// URL");
  if (raw.METRICS_TOKEN !== "" && Buffer.byteLength(raw.METRICS_TOKEN) < 16)
    problems.push("METRICS_TOKEN: must be at least 16 bytes"); // a secret: not echoed
  if (problems.length > 0) throw new ConfigError(problems);
  if (signsTokens && secret === "") {
    // Only once everything else is valid: a rejected configuration leaves no files behind.
    secret = developmentSecret(dataDir);
    generated = true;
  }

  return Object.freeze({
    ...raw,
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl === ":memory:" || postgres ? databaseUrl : resolve(databaseUrl),
    APP_URL: raw.APP_URL.replace(/\/+$/, ""),
    JWT_SECRET: secret,
    JWT_SECRET_GENERATED: generated,
    CORS_ORIGINS: Object.freeze(origins),
    TRUSTED_PROXIES: Object.freeze(proxies),
    RATE_LIMIT_ENABLED:
      raw.RATE_LIMIT_ENABLED === "" ? raw.NODE_ENV !== "test" : raw.RATE_LIMIT_ENABLED === "true",
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
  const width = Math.max(...Object.keys(configVars).map((k) => k.length)) + 2;
  return Object.entries(configVars)
    .map(([k, v]) => {
      const d = (v.schema as { default?: unknown }).default;
      const def = d === undefined || d === "" ? "" : ` [default: ${d}]`;
      return `  ${k.padEnd(width)}${v.doc}${def}`;
    })
    .join("\n");
}
