/** Helpers for the operations tests: metrics parsing, temp directories, a file-backed test app. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestApp, type TestApp } from "../helpers/app.ts";

/** The value of one series in Prometheus text, e.g. `metric(text, "http_requests_total", {route: "/x"})`. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found[k!] = v!;
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** After-response hooks run in setImmediate: let them run before asserting on what they record. */
export const settle = () => new Promise((r) => setTimeout(r, 5));

export async function scrape(t: TestApp, headers: Record<string, string> = {}): Promise<string> {
  await settle();
  const res = await t.request("GET", "/metrics", { headers });
  if (res.status !== 200) throw new Error(`/metrics: ${res.status} ${res.text}`);
  return res.text;
}

export function tempDir(prefix = "quire-ops-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A test app on a SQLite file in its own data directory (backups, locks and workers need a real file). */
export async function fileApp(dir: string, overrides: Record<string, string> = {}): Promise<TestApp> {
  return await createTestApp({ DATA_DIR: dir, DATABASE_URL: join(dir, "quire.db"), ...overrides });
}
