/**
 * Entry point and CLI: `quire [command] [flags]`. Flags are applied as environment overrides before the one
 * config validation, so a flag and its variable can never disagree. Exit codes: 0 ok, 1 runtime failure,
 * 2 usage or configuration error (nothing was started).
 */
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
// Imported (not read at run time) so the version is embedded in the compiled binary.
import pkg from "../package.json" with { type: "json" };
import { admin, adminUsage } from "./cli/admin.ts";
import { backup, backupUsage } from "./cli/backup.ts";
import { healthcheck, healthcheckUsage } from "./cli/healthcheck.ts";
import { migrate } from "./cli/migrate.ts";
import { restore, restoreUsage } from "./cli/restore.ts";
import { serve } from "./cli/serve.ts";
import { type Config, ConfigError, describeConfig, loadConfig } from "./config.ts";
import { createLogger, type Logger, wantsPrettyLogs } from "./lib/logger.ts";

type Flags = Record<string, string | boolean | (string | boolean)[] | undefined>;

interface Command {
  summary: string;
  options: ParseArgsOptionsConfig;
  /** One help line per option, in the order shown. */
  flagHelp: string[];
  /** Accepts positional arguments (a subcommand), passed to run. */
  positionals?: boolean;
  /** What follows the command name in its usage line, e.g. `<file> [flags]`. */
  synopsis?: string;
  run(flags: Flags, positionals: string[]): number | Promise<number>;
}

/** Flag → the environment variable it overrides. */
const flagVars = {
  port: "PORT",
  host: "HOST",
  database: "DATABASE_URL",
  "data-dir": "DATA_DIR",
  "log-level": "LOG_LEVEL",
} as const;

const help = { help: { type: "boolean", short: "h" } } as const;
const storage = {
  database: { type: "string" },
  "data-dir": { type: "string" },
  "log-level": { type: "string" },
  ...help,
} as const;
const storageHelp = [
  "--database <url>     SQLite file or :memory: (DATABASE_URL)",
  "--data-dir <path>    data directory (DATA_DIR)",
  "--log-level <level>  fatal | error | warn | info | debug | trace | silent (LOG_LEVEL)",
];

/** A command taking exactly one positional argument (a file). */
const oneFile =
  (name: string, fn: (file: string, flags: Flags) => number | Promise<number>) =>
  (flags: Flags, positionals: string[]) =>
    positionals.length > 1
      ? usageError(`${name} takes one <file>, got ${positionals.length}`)
      : fn(positionals[0] ?? "", flags);

const commands: Record<string, Command> = {
  serve: {
    summary: "start the HTTP server (the default)",
    options: { port: { type: "string" }, host: { type: "string" }, ...storage },
    flagHelp: [
      "--port <n>           TCP port, 0 for any free one (PORT)",
      "--host <addr>        interface to bind (HOST)",
      ...storageHelp,
    ],
    run: (flags) => withConfig(flags, serve),
  },
  migrate: {
    summary: "apply database migrations and exit",
    options: storage,
    flagHelp: storageHelp,
    run: (flags) => withConfig(flags, migrate),
  },
  admin: {
    summary: "manage admin accounts (create, promote); safe while the server runs",
    options: {
      email: { type: "string" },
      username: { type: "string" },
      password: { type: "string" },
      ...storage,
    },
    positionals: true,
    flagHelp: [...adminUsage, ...storageHelp],
    run: (flags, [sub]) =>
      withConfig(flags, (config, log) =>
        admin(config, log, sub, flags as { email?: string; username?: string; password?: string }),
      ),
  },
  backup: {
    summary: "write a consistent copy of the database to <file>; safe while the server runs",
    options: storage,
    positionals: true,
    synopsis: "<file> [flags]",
    flagHelp: [...backupUsage, ...storageHelp],
    run: oneFile("backup", (file, flags) =>
      withConfig(flags, (config, log) => backup(config, log, file || undefined)),
    ),
  },
  restore: {
    summary: "replace the database with a verified backup <file>; the server must be stopped",
    options: { ...storage, force: { type: "boolean" } },
    positionals: true,
    synopsis: "<file> [flags]",
    flagHelp: [...restoreUsage, ...storageHelp],
    run: oneFile("restore", (file, flags) =>
      withConfig(flags, (config, log) =>
        restore(config, log, file || undefined, { force: flags.force === true }),
      ),
    ),
  },
  healthcheck: {
    summary: "exit 0 if the local server is ready (GET /health/ready), else 1: for container health checks",
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "timeout-ms": { type: "string" },
      ...help,
    },
    flagHelp: healthcheckUsage,
    run: (flags) => healthcheck(flags as { port?: string; host?: string; "timeout-ms"?: string }),
  },
  version: { summary: "print the version", options: help, flagHelp: [], run: () => print(version()) },
  help: { summary: "show this help", options: help, flagHelp: [], run: () => print(usage()) },
};

function version(): string {
  return `quire ${pkg.version} (bun ${Bun.version})`;
}

function usage(): string {
  const list = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(13)}${c.summary}`);
  return [
    `quire ${pkg.version}: a RealWorld-compatible publishing API server`,
    "",
    "Usage: quire [command] [flags]      (quire <command> --help for its flags)",
    "",
    "Commands:",
    ...list,
    "",
    "Global flags:",
    "  -h, --help       show help",
    "  -v, --version    print the version",
    "",
    "Environment (flags override their variable):",
    describeConfig(),
  ].join("\n");
}

function commandUsage(name: string, command: Command): string {
  const flags = [...command.flagHelp, "-h, --help           show this help"].map((l) => `  ${l}`);
  const env =
    command.flagHelp.length > 0
      ? ["", "Every setting is also read from the environment: see quire --help."]
      : [];
  const synopsis = command.synopsis ?? "[flags]";
  return [
    `Usage: quire ${name} ${synopsis}`,
    "",
    `  ${command.summary}`,
    "",
    "Flags:",
    ...flags,
    ...env,
  ].join("\n");
}

function print(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}

function usageError(message: string): number {
  process.stderr.write(`quire: ${message}\n\n${usage()}\n`);
  return 2;
}

/** Validate the environment (with flag overrides), then run `fn` with a logger at the configured level. */
async function withConfig(
  flags: Flags,
  fn: (config: Readonly<Config>, log: Logger) => number | Promise<number>,
) {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const [flag, name] of Object.entries(flagVars)) {
    if (typeof flags[flag] === "string") env[name] = flags[flag];
  }
  let config: Readonly<Config>;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`quire: ${err.message}\n`);
    return 2;
  }
  const log = createLogger(config.LOG_LEVEL, undefined, { pretty: wantsPrettyLogs(config.NODE_ENV) });
  try {
    return await fn(config, log);
  } catch (err) {
    log.fatal({ err }, "failed");
    return 1;
  } finally {
    // The logger writes asynchronously; drain it before the caller exits the process.
    await new Promise<void>((resolve) => log.flush(() => resolve()));
  }
}

export async function main(argv: string[]): Promise<number> {
  // A leading word is the command; with none (`quire`, `quire --port 0`) it is `serve` plus the global flags.
  const first = argv[0];
  const named = first !== undefined && !first.startsWith("-");
  const name = named ? first : "serve";
  const command = commands[name];
  if (!command) return usageError(`unknown command "${name}"`);
  const options: ParseArgsOptionsConfig = named
    ? command.options
    : { ...command.options, version: { type: "boolean", short: "v" } };
  let flags: Flags;
  let positionals: string[];
  try {
    ({ values: flags, positionals } = parseArgs({
      args: named ? argv.slice(1) : argv,
      options,
      strict: true,
      allowPositionals: command.positionals ?? false,
    }));
  } catch (err) {
    return usageError((err as Error).message);
  }
  if (flags.version) return print(version());
  if (flags.help) return print(named ? commandUsage(name, command) : usage());
  return command.run(flags, positionals);
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`quire: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
