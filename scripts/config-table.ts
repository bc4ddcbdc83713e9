/**
 * Prints the configuration table for the README from src/config.ts, so the docs never drift from the code:
 * `bun scripts/config-table.ts`. tests/unit/readme.test.ts checks that the README lists every variable.
 */
import { configVars } from "../src/config.ts";

const rows = Object.entries(configVars).map(([name, { schema, doc }]) => {
  const d = (schema as { default?: unknown }).default;
  const def = d === undefined || d === "" ? "" : `\`${d}\``;
  return `| \`${name}\` | ${def} | ${doc.replaceAll("|", "\\|")} |`;
});
console.log(["| Variable | Default | Meaning |", "| --- | --- | --- |", ...rows].join("\n"));
