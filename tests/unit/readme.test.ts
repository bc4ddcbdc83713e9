/** The README is part of the product: its promises are checked against the code. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { withTable } from "../../scripts/config-table.ts";
import { configVars } from "../../src/config.ts";

const root = join(import.meta.dir, "..", "..");
const readme = await Bun.file(join(root, "README.md")).text();
const ci = await Bun.file(join(root, ".ci", "run")).text();

describe("README", () => {
  test("the configuration table lists every environment variable, as src/config.ts describes it now", async () => {
    const missing = Object.keys(configVars).filter((name) => !readme.includes(`| \`${name}\` |`));
    expect(missing).toEqual([]);
    // Out of date: run `bun scripts/config-table.ts --write`.
    expect(withTable(readme) === readme).toBe(true);
  });

  test("the two set-up lines name real scripts, and CI runs exactly the test line", async () => {
    expect(readme).toContain("npm ci && npm start");
    expect(readme).toContain("npm ci && npm test");
    expect(pkg.scripts.start).toBeDefined();
    // Both halves: every test on SQLite, then on Postgres.
    expect(pkg.scripts.test).toContain("bun run test:sqlite && bun run test:postgres");
    expect(pkg.scripts["test:sqlite"]).toContain("bun test");
    expect(pkg.scripts["test:postgres"]).toBe(`TEST_ENGINE=postgres ${pkg.scripts["test:sqlite"]}`);
    expect(ci).toMatch(/^\s*npm test\s*$/m);
  });

  test("every package script the README tells people to run exists", async () => {
    const named = [...readme.matchAll(/bun run ([a-z:]+)/g)].map((m) => m[1]!);
    const unknown = named.filter((s) => !(s in pkg.scripts));
    expect(unknown).toEqual([]);
  });
});
