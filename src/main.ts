/**
 * Entry point and CLI: `quire [command] [flags]`. Flags are applied as environment overrides before the one
 * config validation, so a flag and its variable can never disagree. Exit codes: 0 ok, 1 runtime failure,
 * 2 usage or configuration error (nothing was started).
 *
 * Start-up: this file imports only the argument parser and the command table. Each command imports its
 * implementation when it runs (the bundler keeps those modules unevaluated until then), so `quire
 * --version` evaluates almost nothing, and `serve` never evaluates the code of `admin` or `restore`.
 */
import type { ParseArgsOptionsConfig } from "node:util";
// Imported (not read at run time) so the version is embedded in the compiled binary.
import pkg from "../package.json" with { type: "json" };
import { adminCommand } from "./cli/admin-command.ts";
import { closest, commandUsage, parseFlags, subcommand } from "./cli/args.ts";
import { type Command, type Flags, help, print, storage, storageHelp, UsageError } from "./cli/command.ts";
import { healthcheckUsage } from "./cli/healthcheck.ts";
import type { WithConfig } from "./cli/with-config.ts";

/** Run `fn` of a command's module with the validated configuration (./cli/with-config.ts). */
const withConfig: WithConfig = async (...args) => (await import("./cli/with-config.ts")).withConfig(...args);

/** A command taking exactly one positional argument (a file). */
const oneFile =
  (name: string, fn: (file: string, flags: Flags) => number | Promise<number>) =>
  (flags: Flags, positionals: string[]) => {
    if (positionals.length > 1)
      throw new UsageError(`${name} takes one <file>, got ${positionals.length}`, name);
    return fn(positionals[0] ?? "", flags);
  };

const commands: Record<string, Command> = {
  serve: {
    summary: "start the HTTP server (the default)",
    options: { port: { type: "string" }, host: { type: "string" }, ...storage },
    flagHelp: [
      "--port <n>           TCP port, 0 for any free one (PORT)",
      "--host <addr>        interface to bind (HOST)",
      ...storageHelp,
    ],
    // The one command that signs tokens, hence the one that needs JWT_SECRET.
    run: async (flags) => withConfig(flags, (await import("./cli/serve.ts")).serve, { signsTokens: true }),
  },
  migrate: {
    summary: "apply database migrations and exit",
    options: storage,
    flagHelp: storageHelp,
    run: async (flags) => withConfig(flags, (await import("./cli/migrate.ts")).migrate),
  },
  admin: adminCommand,
  backup: {
    summary: "write a consistent copy of the database to <file>; safe while the server runs",
    options: storage,
    positionals: true,
    synopsis: "<file> [flags]",
    flagHelp: ["<file>               where to write the copy (must not exist)", ...storageHelp],
    run: oneFile("backup", async (file, flags) => {
      const { backup } = await import("./cli/backup.ts");
      return withConfig(flags, (config, log) => backup(config, log, file || undefined));
    }),
  },
  restore: {
    summary: "replace the database with a verified backup <file>; the server must be stopped",
    options: { ...storage, force: { type: "boolean" } },
    positionals: true,
    synopsis: "<file> [flags]",
    flagHelp: [
      "<file>               the backup to restore (checked before anything changes)",
      "--force              ignore a serve lock, or Quire's open connections on Postgres (only when sure no server runs)",
      ...storageHelp,
    ],
    run: oneFile("restore", async (file, flags) => {
      const { restore } = await import("./cli/restore.ts");
      return withConfig(flags, (config, log) =>
        restore(config, log, file || undefined, { force: flags.force === true }),
      );
    }),
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
    run: async (flags) =>
      (await import("./cli/healthcheck.ts")).healthcheck(
        flags as { port?: string; host?: string; "timeout-ms"?: string },
      ),
  },
  version: { summary: "print the version", options: help, flagHelp: [], run: () => print(version()) },
  help: { summary: "show this help", options: help, flagHelp: [], run: async () => print(await usage()) },
};

function version(): string {
  return `quire ${pkg.version} (bun ${Bun.version})`;
}

/** The top-level help; the environment part is read from the configuration schema (../config.ts). */
async function usage(): Promise<string> {
  const { describeConfig } = await import("./config.ts");
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
    "Exit codes: 0 success, 1 runtime failure or refusal, 2 usage or configuration error.",
    "",
    "Environment (flags override their variable):",
    describeConfig(),
  ].join("\n");
}

/** One line saying what is wrong, one saying where to look: never the whole help. */
function usageError(err: UsageError): number {
  const command = err.helpFor ? `quire ${err.helpFor} --help` : "quire --help";
  process.stderr.write(`quire: ${err.message}\nRun "${command}" for usage.\n`);
  return 2;
}

async function dispatch(argv: string[]): Promise<number> {
  // A leading word is the command; with none (`quire`, `quire --port 0`) it is `serve` plus the global flags.
  const first = argv[0];
  const named = first !== undefined && !first.startsWith("-");
  let name = named ? first : "serve";
  let command = commands[name];
  if (!command) {
    const guess = closest(name, Object.keys(commands));
    throw new UsageError(`unknown command "${name}"${guess ? ` (did you mean ${guess}?)` : ""}`, "");
  }
  let args = named ? argv.slice(1) : argv;
  if (command.subcommands) {
    if (args[0] === "--help" || args[0] === "-h") return print(commandUsage(name, command));
    command = subcommand(command, name, args[0]);
    name = `${name} ${args[0]}`;
    args = args.slice(1);
  }
  const globals: ParseArgsOptionsConfig = named ? {} : { version: { type: "boolean", short: "v" } };
  const { flags, positionals } = parseFlags(args, command, named ? name : "", globals);
  if (flags.version) return print(version());
  if (flags.help) return print(named ? commandUsage(name, command) : await usage());
  return command.run!(flags, positionals);
}

export async function main(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (err) {
    if (err instanceof UsageError) return usageError(err);
    throw err;
  }
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
