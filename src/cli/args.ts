/**
 * Command-line parsing on top of node:util's parseArgs, with errors a person can act on: one line naming
 * the unknown flag or command and the closest known one (`unknown flag --prot (did you mean --port?)`),
 * never the whole help text. Help texts for a command and for a group of subcommands live here too.
 */
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { type Command, type Flags, UsageError } from "./command.ts";

/**
 * Edit distance counting a swap of neighbours as one edit (optimal string alignment), so `--prot` is one
 * edit from `--port`. Hand-written: a dozen lines for a handful of short words, where a dependency would be
 * embedded in the binary for nothing else.
 */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  return d[a.length]![b.length]!;
}

/** The known word nearest to `word`, if it is near enough to be a typo (or `word` starts it). */
export function closest(word: string, known: Iterable<string>): string | undefined {
  const bare = (s: string) => s.replace(/^-+/, "").toLowerCase();
  const w = bare(word);
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const n = bare(name);
    const d = n.startsWith(w) && w.length >= 2 ? 1 : distance(w, n);
    if (!best || d < best.d) best = { name, d };
  }
  return best && best.d <= Math.max(1, Math.round(bare(best.name).length / 3)) ? best.name : undefined;
}

const didYouMean = (guess: string | undefined) => (guess ? ` (did you mean ${guess}?)` : "");

/** `--name` and `-x` spellings of the options. */
function spellings(options: ParseArgsOptionsConfig): string[] {
  return Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
}

/** parseArgs' messages rephrased: they name options as `'--port <value>'` and explain `--` tricks. */
function rephrase(err: NodeJS.ErrnoException, options: ParseArgsOptionsConfig, name: string): string {
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? "";
  const flag = quoted.split(" ")[0] ?? "";
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const shown = flag.startsWith("-") ? flag : `-${flag}`; // `-hx` reports just "x"
      const guess = shown.startsWith("--") ? closest(shown, spellings(options)) : undefined;
      return `unknown flag ${shown}${name ? ` for ${name}` : ""}${didYouMean(guess)}`;
    }
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return /does not take an argument/.test(err.message)
        ? `${flag} takes no value`
        : `${flag} needs a value (to pass one starting with "-", write ${flag}=<value>)`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument "${quoted}": ${name || "quire"} takes none`;
    default:
      return err.message;
  }
}

/** Parse `args` for `command` (called `name` in messages); throws UsageError. */
export function parseFlags(
  args: string[],
  command: Command,
  name: string,
  extra: ParseArgsOptionsConfig = {},
): { flags: Flags; positionals: string[] } {
  const options = { ...command.options, ...extra };
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      strict: true,
      allowPositionals: command.positionals ?? false,
    });
    return { flags: values, positionals };
  } catch (err) {
    throw new UsageError(rephrase(err as NodeJS.ErrnoException, options, name), name);
  }
}

/** Pick the subcommand named by `word`, or explain what the group accepts. */
export function subcommand(group: Command, name: string, word: string | undefined): Command {
  const subs = group.subcommands ?? {};
  const list = Object.keys(subs).join(", ");
  if (word === undefined || word.startsWith("-"))
    throw new UsageError(`${name} needs a command: ${list}`, name);
  const found = subs[word];
  if (!found)
    throw new UsageError(
      `unknown ${name} command "${word}"${didYouMean(closest(word, Object.keys(subs)))}; expected one of: ${list}`,
      name,
    );
  return found;
}

/** `quire <name> --help`: for a group, its subcommands; otherwise the flags. */
export function commandUsage(name: string, command: Command): string {
  if (command.subcommands) {
    const subs = Object.entries(command.subcommands);
    const width = Math.max(...subs.map(([n]) => n.length)) + 3;
    return [
      `Usage: quire ${name} <${subs.map(([n]) => n).join("|")}> [flags]`,
      "",
      `  ${command.summary}`,
      "",
      "Commands:",
      ...subs.map(([n, c]) => `  ${n.padEnd(width)}${c.summary}`),
      "",
      "Flags of every command:",
      ...[...command.flagHelp, "-h, --help           show help"].map((l) => `  ${l}`),
      "",
      `Run "quire ${name} <command> --help" for a command's own flags.`,
    ].join("\n");
  }
  const flags = [...command.flagHelp, "-h, --help           show this help"].map((l) => `  ${l}`);
  const env =
    command.flagHelp.length > 0
      ? ["", "Every setting is also read from the environment: see quire --help."]
      : [];
  return [
    `Usage: quire ${name} ${command.synopsis ?? "[flags]"}`,
    "",
    `  ${command.summary}`,
    "",
    "Flags:",
    ...flags,
    ...env,
  ].join("\n");
}
