/**
 * What every CLI command shares: its shape (flags, help lines, subcommands), the storage flags, and
 * `withConfig`, which applies flags as environment overrides and validates the configuration once.
 * Exit codes: 0 ok, 1 runtime failure or refusal, 2 usage or configuration error (nothing was changed).
 */
import type { ParseArgsOptionsConfig } from "node:util";
import { type Config, ConfigError, loadConfig } from "../config.ts";
import { createLogger, type Logger, wantsPrettyLogs } from "../lib/logger.ts";

export type Flags = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface Command {
  summary: string;
  options: ParseArgsOptionsConfig;
  /** One help line per option, in the order shown. */
  flagHelp: string[];
  /** Accepts positional arguments (a file), passed to run. */
  positionals?: boolean;
  /** What follows the command name in its usage line, e.g. `<file> [flags]`. */
  synopsis?: string;
  /** Commands of their own (`quire admin create`): the word after this one picks one. */
  subcommands?: Record<string, Command>;
  run?(flags: Flags, positionals: string[]): number | Promise<number>;
}

/** A mistake in how the command was called: one line, a pointer to `--help`, exit 2. */
export class UsageError extends Error {
  override name = "UsageError";
  constructor(
    message: string,
    /** The command whose `--help` explains it, e.g. "serve" or "admin create"; "" for the top level. */
    readonly helpFor: string,
  ) {
    super(message);
  }
}

/** Flag → the environment variable it overrides. */
const flagVars = {
  port: "PORT",
  host: "HOST",
  database: "DATABASE_URL",
  "data-dir": "DATA_DIR",
  "log-level": "LOG_LEVEL",
} as const;

export const help = { help: { type: "boolean", short: "h" } } as const;
export const storage = {
  database: { type: "string" },
  "data-dir": { type: "string" },
  "log-level": { type: "string" },
  ...help,
} as const;
export const storageHelp = [
  "--database <url>     SQLite file, :memory: or postgres:// URL (DATABASE_URL)",
  "--data-dir <path>    data directory (DATA_DIR)",
  "--log-level <level>  fatal | error | warn | info | debug | trace | silent (LOG_LEVEL)",
];

export function print(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}

/**
 * Validate the environment (with flag overrides), then run `fn` with a logger at the configured level.
 * Only a command that signs tokens (`serve`) reads JWT_SECRET: see LoadOptions in src/config.ts.
 */
export async function withConfig(
  flags: Flags,
  fn: (config: Readonly<Config>, log: Logger) => number | Promise<number>,
  options: { signsTokens?: boolean } = {},
): Promise<number> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const [flag, name] of Object.entries(flagVars)) {
    if (typeof flags[flag] === "string") env[name] = flags[flag];
  }
  let config: Readonly<Config>;
  try {
    config = loadConfig(env, { signsTokens: options.signsTokens ?? false });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`quire: ${err.message}\n`);
    return 2;
  }
  const log = createLogger(config.LOG_LEVEL, undefined, { pretty: wantsPrettyLogs(config.NODE_ENV) });
  try {
    return await fn(config, log);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    log.fatal({ err }, "failed");
    return 1;
  } finally {
    // The logger writes asynchronously; drain it before the caller exits the process.
    await new Promise<void>((resolve) => log.flush(() => resolve()));
  }
}
