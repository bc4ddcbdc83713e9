/**
 * What every CLI command shares: its shape (flags, help lines, subcommands) and the storage flags.
 * `withConfig` (./with-config.ts) applies flags as environment overrides and validates the configuration.
 * Exit codes: 0 ok, 1 runtime failure or refusal, 2 usage or configuration error (nothing was changed).
 *
 * This module, ./args.ts and the command table in src/main.ts are all that `quire --version` and `--help`
 * evaluate: they import nothing else, and every command loads its implementation when it runs.
 */
import type { ParseArgsOptionsConfig } from "node:util";

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
export const flagVars = {
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

/** The password flags of `admin create` and `admin reset-password` (read by ./password.ts). */
export const passwordOptions = {
  password: { type: "string" },
  "generate-password": { type: "boolean" },
} as const;

export const passwordHelp = [
  "--password -         read the password from standard input (one line)",
  "--generate-password  generate one and print it once",
  "--password <p>       the password itself (visible in `ps`; prefer the two above)",
  "                     with none of these, on a terminal: prompt (no echo)",
];
