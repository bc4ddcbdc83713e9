/**
 * Where the RealWorld test suites are: `REALWORLD_DIR` (relative to the repository root, or absolute),
 * by default `../shared/realworld` beside the repository, as CI lays it out. A clone with nothing beside it
 * has no suite: the tests that need one are skipped with one line saying where it was looked for (CI's
 * .ci/run refuses to run without it).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";

const root = resolve(import.meta.dir, "../..");

export const realworldDir = resolve(root, process.env.REALWORLD_DIR || "../shared/realworld");

/** The path of `relative` inside the suites' directory, or undefined (after one line on stderr) if absent. */
export function realworldPath(relative: string, what: string): string | undefined {
  const path = resolve(realworldDir, relative);
  if (existsSync(path)) return path;
  console.warn(`skipping ${what}: ${path} not found (set REALWORLD_DIR to the RealWorld repository)`);
  return undefined;
}
