/**
 * `bun bench/profile.ts [workload …]`: where Quire spends a request. For each workload (ids of
 * bench/lib/workloads.ts; default slug and live), starts Quire from source under `bun --cpu-prof`, warms it
 * up, loads it with wrk for BENCH_DURATION seconds, stops it, and prints the profile's self time (samples
 * taken during the load only) summed per function and per file or package, largest first.
 *
 * Environment: BENCH_DURATION=10, BENCH_CONNECTIONS=64, BENCH_ARTICLES=2000 (users: a tenth),
 * PROFILE_TOP=25 rows per table, PROFILE_KEEP=<dir> to keep the .cpuprofile files there.
 */
import { Database } from "bun:sqlite";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { openMigrated } from "./lib/db.ts";
import { measure } from "./lib/load.ts";
import { freePort, quireEnv, root, startQuire, stop } from "./lib/servers.ts";
import { workloads } from "./lib/workloads.ts";
import { seedDatabase } from "./seed.ts";

const seconds = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
const articles = Number(process.env.BENCH_ARTICLES ?? 2000);
const top = Number(process.env.PROFILE_TOP ?? 25);
const ids = process.argv.slice(2).length ? process.argv.slice(2) : ["slug", "live"];
const dir = mkdtempSync(join(tmpdir(), "quire-profile-"));
const secret = `bench-${crypto.randomUUID()}-${crypto.randomUUID()}`;
const password = "bench-password";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}

/** Where a frame's code lives: a package name, a project file, or the runtime. */
function ownerOf(url: string): string {
  if (!url) return "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith(root)) return relative(root, url);
  return url.replace(/:\d+$/, "");
}

/** Self time per function and per owner, over the samples taken between `from` and `to` (µs, profile clock). */
function summarize(profile: CpuProfile, from: number, to: number) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fns = new Map<string, number>();
  const owners = new Map<string, number>();
  let t = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!;
    if (t < from || t > to) continue;
    const node = byId.get(profile.samples[i]!)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const owner = ownerOf(url);
    const fn = `${functionName || "(anonymous)"} ${owner}${url ? `:${lineNumber + 1}` : ""}`;
    fns.set(fn, (fns.get(fn) ?? 0) + 1);
    owners.set(owner, (owners.get(owner) ?? 0) + 1);
    total++;
  }
  const table = (m: Map<string, number>, title: string) =>
    [`| self | ${title} |`, "| ---: | --- |"]
      .concat(
        [...m]
          .sort((a, b) => b[1] - a[1])
          .slice(0, top)
          .map(([k, n]) => `| ${((n / total) * 100).toFixed(1)}% | \`${k}\` |`),
      )
      .join("\n");
  return `${total} samples\n\n${table(fns, "function")}\n\n${table(owners, "file or package")}`;
}

async function signIn(url: string, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 1; i <= count; i++) {
    const res = await fetch(`${url}/api/users/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: { email: `user${i}@bench.test`, password } }),
    });
    if (res.status !== 200) throw new Error(`login user${i}: ${res.status}`);
    tokens.push(((await res.json()) as { user: { token: string } }).user.token);
  }
  return tokens;
}

try {
  const db = join(dir, "quire.db");
  const { sqlite } = openMigrated(db);
  const passwordHash = await Bun.password.hash(password, {
    algorithm: "argon2id",
    memoryCost: 4096,
    timeCost: 1,
  });
  const { popularTag } = seedDatabase(sqlite, {
    users: Math.max(100, articles / 10),
    articles,
    search: true,
    passwordHash,
  });
  sqlite.run("PRAGMA wal_checkpoint(TRUNCATE)");
  sqlite.close();
  for (const id of ids) {
    const w = workloads.find((x) => x.id === id);
    if (!w) throw new Error(`no workload "${id}"`);
    const profDir = join(dir, `prof-${id}`);
    mkdirSync(profDir);
    const cmd = [process.execPath, join(root, "src", "main.ts"), "serve"];
    const quire = await startQuire(cmd, quireEnv(db, await freePort(), secret, dir), [
      "--cpu-prof",
      `--cpu-prof-dir=${profDir}`,
    ]);
    const tokens = await signIn(quire.url, 64);
    const spec = w.spec({ articles, popularTag, tokens, run: "p" });
    const opts = { tool: "wrk" as const, baseUrl: quire.url, connections, dir };
    await measure(spec, { ...opts, seconds: 3 });
    // The profile's clock is microseconds since an arbitrary origin: mark the load by wall time offsets.
    const loadStart = Date.now();
    const r = await measure(spec, { ...opts, seconds });
    const loadEnd = Date.now();
    await stop(quire);
    new Database(db).close();
    const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"))!;
    const profile = JSON.parse(readFileSync(join(profDir, file), "utf8")) as CpuProfile & { endTime: number };
    // The profile ends at the process's exit, just after the load: count back from its end.
    const exitAt = Date.now();
    const to = profile.endTime - (exitAt - loadEnd) * 1000;
    const from = to - (loadEnd - loadStart) * 1000;
    console.log(
      `\n## ${w.title}: ${Math.round(r.rps).toLocaleString("en-US")} req/s under the profiler\n\n${summarize(profile, from, to)}`,
    );
    if (process.env.PROFILE_KEEP) {
      mkdirSync(process.env.PROFILE_KEEP, { recursive: true });
      await Bun.write(join(process.env.PROFILE_KEEP, `${id}.cpuprofile`), Bun.file(join(profDir, file)));
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
