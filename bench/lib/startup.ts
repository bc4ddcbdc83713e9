/**
 * Start-up figures, shared by `bun run bench` and `bun bench/startup.ts`: exec to first 200 for the compiled
 * Quire binary and for a compiled "hello world" `Bun.serve` built with the same flags (the floor any compiled
 * Bun server pays on this machine), and exec to exit for `quire --version` / `--help` beside the same hello
 * binary printing a line. Samples alternate between Quire and the floor, so a machine that slows down during
 * the run slows both down.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, quireCommand, quireEnv, root, startQuire, stop } from "./servers.ts";

async function build(args: string[], what: string): Promise<void> {
  const proc = Bun.spawn([process.execPath, ...args], { cwd: root, stdout: "ignore", stderr: "inherit" });
  if ((await proc.exited) !== 0) throw new Error(`building ${what} failed`);
}

/** Quire's binary: BENCH_QUIRE or a fresh dist/quire, else one built into `dir` from the sources. */
export async function quireBinary(dir: string): Promise<string> {
  const { cmd } = quireCommand();
  if (!cmd[1]?.endsWith("main.ts")) return cmd[0]!;
  const out = join(dir, "quire");
  await build(["scripts/build.ts", "--outfile", out], "quire");
  return out;
}

/**
 * A compiled hello world with the flags scripts/build.ts gives Quire: a server answering `{"tags":[]}`, or,
 * given `--version`, a program that prints one line and exits.
 */
export async function helloBinary(dir: string): Promise<string> {
  const src = join(dir, "hello.ts");
  writeFileSync(
    src,
    `if (process.argv.includes("--version")) console.log("hello 1.0.0");
else Bun.serve({ hostname: "127.0.0.1", port: Number(process.env.PORT), fetch: () => Response.json({ tags: [] }) });
`,
  );
  const out = join(dir, "hello");
  await build(
    [
      "build",
      "--compile",
      "--minify-whitespace",
      "--minify-syntax",
      "--bytecode",
      "--format=esm",
      "--no-compile-autoload-dotenv",
      "--no-compile-autoload-bunfig",
      src,
      "--outfile",
      out,
    ],
    "hello world",
  );
  return out;
}

/** User + system CPU milliseconds of a running process (Linux; clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  // Fields after the command name, which is in parentheses and may contain spaces: utime is the 12th.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export interface StartSample {
  wall: number;
  cpu: number;
}

/** Exec to the first 200 from `GET /api/tags` (polled every millisecond), and the CPU used by then. */
export async function startOnce(
  cmd: string[],
  db: string,
  secret: string,
  dir: string,
): Promise<StartSample> {
  const port = await freePort();
  const server = await startQuire(cmd, quireEnv(db, port, secret, dir));
  const cpu = cpuMs(server.proc.pid);
  await stop(server);
  return { wall: server.startMs, cpu };
}

/** Exec to exit of a command that prints and exits (`quire --version`). */
export async function runOnce(cmd: string[]): Promise<number> {
  const started = performance.now();
  const proc = Bun.spawn(cmd, { stdout: "ignore", stderr: "inherit", env: { PATH: process.env.PATH ?? "" } });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited with ${code}`);
  return performance.now() - started;
}

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export const spread = (xs: number[]): Spread => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s.at(-1)! };
};

export interface StartupReport {
  quire: StartSample[];
  hello: StartSample[];
  version: number[];
  help: number[];
  helloExit: number[];
  /** Exec to first 200 on a Postgres database, when one was given. */
  postgres: StartSample[];
}

/** `runs` alternating samples of each figure, after one unmeasured warm-up of each. */
export async function measureStartup(
  quire: string,
  hello: string,
  o: { db: string; secret: string; dir: string; runs: number; postgres?: string },
): Promise<StartupReport> {
  const serve = (bin: string) => (bin === quire ? [bin, "serve"] : [bin]);
  const report: StartupReport = { quire: [], hello: [], version: [], help: [], helloExit: [], postgres: [] };
  for (let i = -1; i < o.runs; i++) {
    const q = await startOnce(serve(quire), o.db, o.secret, o.dir);
    const h = await startOnce(serve(hello), o.db, o.secret, o.dir);
    const v = await runOnce([quire, "--version"]);
    const e = await runOnce([hello, "--version"]);
    const p = await runOnce([quire, "--help"]);
    const pg = o.postgres ? await startOnce(serve(quire), o.postgres, o.secret, o.dir) : undefined;
    if (i < 0) continue;
    if (pg) report.postgres.push(pg);
    report.quire.push(q);
    report.hello.push(h);
    report.version.push(v);
    report.helloExit.push(e);
    report.help.push(p);
  }
  return report;
}

/** The report as markdown rows: | what | Quire | hello world | ratio |. */
export function startupRows(r: StartupReport): string[] {
  const ms = (s: Spread) => `${s.median.toFixed(0)} ms (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
  const row = (what: string, a: number[], b: number[]) => {
    const x = spread(a);
    const y = spread(b);
    return `| ${what} | ${ms(x)} | ${ms(y)} | ${(x.median / y.median).toFixed(2)} |`;
  };
  const cpu = (xs: StartSample[]) => spread(xs.map((x) => x.cpu)).median;
  const onPostgres = r.postgres.length
    ? [
        row(
          "exec → first 200, on Postgres",
          r.postgres.map((x) => x.wall),
          r.hello.map((x) => x.wall),
        ),
      ]
    : [];
  return [
    row(
      "exec → first 200",
      r.quire.map((x) => x.wall),
      r.hello.map((x) => x.wall),
    ),
    `| CPU used by then (user + system, all threads) | ${cpu(r.quire)} ms | ${cpu(r.hello)} ms | ${(cpu(r.quire) / Math.max(1, cpu(r.hello))).toFixed(2)} |`,
    ...onPostgres,
    row("`quire --version` exec → exit", r.version, r.helloExit),
    row("`quire --help` exec → exit", r.help, r.helloExit),
  ];
}
