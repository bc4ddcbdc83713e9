/**
 * Builds the single executable dist/quire: the bundled server plus the files it reads at run time
 * (embedded under /$bunfs/root/<path>), so it starts from any directory with nothing beside it.
 *
 *   bun scripts/build.ts [--outfile dist/quire] [--no-bytecode]
 *
 * Spawns `bun build` rather than calling Bun.build() because `--asset` is a CLI flag only.
 */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

const root = resolve(import.meta.dir, "..");

/**
 * Folders and files embedded next to the code, relative to the repo root, read at run time from
 * `/$bunfs/root/<path>` (see src/infra/sqlite/migrate.ts). Add docs UI folders here; single files the code imports
 * `with { type: "file" }` (src/http/openapi.ts) are embedded by the bundler without being listed.
 */
const assets = ["drizzle"];

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { outfile: { type: "string", default: "dist/quire" }, "no-bytecode": { type: "boolean" } },
});
const outfile = resolve(root, values.outfile);

const args = [
  "build",
  "--compile",
  // Not --minify: Elysia reads handler source to decide what each route parses (sucrose), and renamed
  // identifiers (`{ headers: n }`) make it skip work the handler needs (headers arrive undefined).
  "--minify-whitespace",
  "--minify-syntax",
  "--sourcemap=none",
  // The binary is configured by its environment and flags only, never by files in the directory it runs in.
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
  // Precompiled bytecode skips parsing at start-up (README, Performance: 219 ms to the first 200 with it, 346
  // ms without, on a busy 2-core box), for ~4 MiB more binary. --no-bytecode builds without it, to compare.
  ...(values["no-bytecode"] ? [] : ["--bytecode", "--format=esm"]),
  // Each `await import()` of src/main.ts's command table becomes its own chunk inside the binary, loaded when
  // the command runs: `quire --version` loads a few kilobytes, not the server (whose dependencies would be
  // linked, Node built-ins included, even if never evaluated).
  "--splitting",
  ...assets.map((a) => `--asset=${a}`),
  "src/main.ts",
  "--outfile",
  outfile,
];

const started = performance.now();
const proc = Bun.spawn([process.execPath, ...args], { cwd: root, stdout: "inherit", stderr: "inherit" });
const code = await proc.exited;
if (code !== 0) {
  console.error(`build failed: bun ${args.join(" ")} exited with ${code}`);
  process.exit(code);
}
const mib = (statSync(outfile).size / 1024 / 1024).toFixed(1);
console.log(`built ${outfile} (${mib} MiB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
