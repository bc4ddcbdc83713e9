/**
 * The README's configuration table, generated from src/config-vars.ts so the docs never drift from the code.
 * `bun scripts/config-table.ts` prints it; `--write` replaces it in README.md between its markers.
 * tests/unit/readme.test.ts fails when the README's copy is not the current one.
 */
import { join } from "node:path";
import { configVars } from "../src/config.ts";

export function configTable(): string {
  const rows = Object.entries(configVars).map(([name, { schema, doc }]) => {
    const d = (schema as { default?: unknown }).default;
    const def = d === undefined || d === "" ? "" : `\`${d}\``;
    return `| \`${name}\` | ${def} | ${doc.replaceAll("|", "\\|")} |`;
  });
  return ["| Variable | Default | Meaning |", "| --- | --- | --- |", ...rows].join("\n");
}

const START = "<!-- config-table:start -->";
const END = "<!-- config-table:end -->";

export function withTable(readme: string): string {
  const from = readme.indexOf(START);
  const to = readme.indexOf(END);
  if (from < 0 || to < from) throw new Error("README.md has no config-table markers");
  return `${readme.slice(0, from + START.length)}\n${configTable()}\n${readme.slice(to)}`;
}

if (import.meta.main) {
  if (process.argv.includes("--write")) {
    const file = join(import.meta.dir, "..", "README.md");
    await Bun.write(file, withTable(await Bun.file(file).text()));
    console.log("README.md: configuration table updated");
  } else {
    console.log(configTable());
  }
}
