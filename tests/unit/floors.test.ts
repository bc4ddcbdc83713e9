/**
 * The floors of the code base hold (DESIGN.md, "Engines behind small interfaces"). Read from the import
 * statements of every file under src/ (type-only imports are erased at run time and cross freely):
 *
 *   lib/            framework-free building blocks: import nothing of the app
 *   kernel          errors.ts, events.ts, policy.ts, config.ts, config-vars.ts: lib and each other only
 *   store/          the engine-neutral contracts: lib, kernel and store only
 *   infra/<engine>/ one engine: lib, kernel, store and its own folder; never a module, http or another engine
 *   http/           cross-cutting plugins: never a module, never an engine
 *   modules/<m>/    a feature: never an engine; another module only through its public files (service.ts,
 *                   model.ts, routes.ts, setup.ts, index.ts); and its service layer (service.ts and what it
 *                   imports, within the module) neither http nor elysia: services are framework-free
 *   context.ts, app.ts, main.ts, listeners.ts, cli/: the composition root, free to import anything
 *
 * A violation fails with the file, the import and the rule it breaks.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(import.meta.dir, "../..");
const src = join(root, "src");
const files = [...new Bun.Glob("**/*.ts").scanSync({ cwd: src })].map((f) => join("src", f));

/** Value imports (and re-exports) of a file: repo-relative paths of local files, bare names of packages. */
function valueImports(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  const out: string[] = [];
  const statement = /^\s*(import|export)\s+([\s\S]*?)\s+from\s+"([^"]+)";?/gm;
  for (const m of text.matchAll(statement)) {
    const clause = m[2]!;
    if (/^type\b/.test(clause)) continue;
    const braced = /^\{([\s\S]*)\}$/.exec(clause.trim());
    if (braced && braced[1]!.split(",").every((s) => s.trim() === "" || /^type\b/.test(s.trim()))) continue;
    out.push(resolveSpecifier(file, m[3]!));
  }
  for (const m of text.matchAll(/^\s*import\s+"([^"]+)";?/gm)) out.push(resolveSpecifier(file, m[1]!));
  return out;
}

function resolveSpecifier(from: string, specifier: string): string {
  if (!specifier.startsWith(".")) return specifier;
  return relative(root, resolve(root, dirname(from), specifier));
}

const graph = new Map(files.map((f) => [f, valueImports(f)]));

const kernel = new Set([
  "src/errors.ts",
  "src/events.ts",
  "src/policy.ts",
  "src/config.ts",
  "src/config-vars.ts",
]);
const top = new Set(["src/context.ts", "src/app.ts", "src/main.ts", "src/listeners.ts"]);
const isLocal = (p: string) => p.startsWith("src/");
const under = (p: string, dir: string) => p.startsWith(`${dir}/`);
const moduleOf = (p: string) => /^src\/modules\/([^/]+)\//.exec(p)?.[1];
const engineOf = (p: string) => /^src\/infra\/([^/]+)\//.exec(p)?.[1];
const PUBLIC = new Set(["service.ts", "model.ts", "routes.ts", "setup.ts", "index.ts"]);

/** Why `file` may not import `target`, or undefined when it may. */
function broken(file: string, target: string): string | undefined {
  if (!isLocal(target)) {
    if (under(file, "src/lib") && (target === "elysia" || target.startsWith("drizzle-orm")))
      return "lib/ is framework-free";
    return undefined;
  }
  if (under(file, "src/lib") && !under(target, "src/lib")) return "lib/ imports only lib/";
  if (kernel.has(file) && !under(target, "src/lib") && !kernel.has(target))
    return "the kernel (errors, events, policy, config) imports only lib/ and itself";
  if (
    under(file, "src/store") &&
    !under(target, "src/lib") &&
    !kernel.has(target) &&
    !under(target, "src/store")
  )
    return "store/ imports only lib/, the kernel and store/";
  const engine = engineOf(file);
  if (engine) {
    const ok =
      under(target, "src/lib") ||
      kernel.has(target) ||
      under(target, "src/store") ||
      under(target, `src/infra/${engine}`);
    if (!ok) return `infra/${engine} imports only lib/, the kernel, store/ and infra/${engine}/`;
  }
  if (under(file, "src/http") && (under(target, "src/modules") || under(target, "src/infra")))
    return "http/ imports no module and no engine";
  const mod = moduleOf(file);
  if (mod) {
    if (under(target, "src/infra")) return "a module never imports an engine";
    if (top.has(target) || under(target, "src/cli")) return "a module never imports the composition root";
    const other = moduleOf(target);
    if (other && other !== mod && !PUBLIC.has(target.split("/").at(-1)!))
      return `a module reaches another only through its public files (${[...PUBLIC].join(", ")})`;
  }
  return undefined;
}

/** Every local file `start` reaches by value imports within its own module. */
function moduleClosure(start: string): Set<string> {
  const mod = moduleOf(start);
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    for (const next of graph.get(queue.pop()!) ?? []) {
      if (!seen.has(next) && moduleOf(next) === mod && graph.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}

describe("the floors hold", () => {
  test("the scan sees the code base (a broken reader would pass everything)", () => {
    expect(files.length).toBeGreaterThan(100);
    expect(graph.get("src/context.ts")).toContain("src/infra/sqlite/store.ts");
    expect(graph.get("src/http/auth.ts")).toContain("elysia");
    // `import type` does not count: store/store.ts names DomainEvent through a type import only.
    expect(graph.get("src/store/store.ts")).not.toContain("src/events.ts");
  });

  test("every import respects its floor", () => {
    const violations: string[] = [];
    for (const [file, imports] of graph) {
      for (const target of imports) {
        const why = broken(file, target);
        if (why) violations.push(`${file} → ${target}: ${why}`);
      }
    }
    expect(violations).toEqual([]);
  });

  test("services are framework-free: no http/, no elysia, no engine in a service's closure", () => {
    const violations: string[] = [];
    for (const file of files.filter((f) => f.endsWith("/service.ts") && moduleOf(f))) {
      for (const reached of moduleClosure(file)) {
        for (const target of graph.get(reached) ?? []) {
          if (target === "elysia" || under(target, "src/http") || under(target, "src/infra"))
            violations.push(`${file} (through ${reached}) → ${target}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  test("no hidden per-context state: no memoisation keyed by context or connection", () => {
    const hidden = files.filter((f) =>
      /perOwner\(|new WeakMap<(AppContext|Database|object)|new WeakSet<AppContext/.test(
        readFileSync(join(root, f), "utf8"),
      ),
    );
    expect(hidden).toEqual([]);
  });
});
