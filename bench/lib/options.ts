/** The settings of `bun run bench` (environment variables, documented in bench/run.ts) and small helpers. */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Reference, workloads } from "./workloads.ts";

const env = (name: string, fallback: number, min = 1) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number ≥ ${min}`);
  return value;
};

export type Engine = "sqlite" | "postgres";
export type Name = "quire" | Reference;

const only = process.env.BENCH_WORKLOADS?.split(",").map((s) => s.trim());
const engines = (process.env.BENCH_ENGINES ?? "sqlite,postgres").split(",").map((e) => e.trim());
for (const e of engines)
  if (e !== "sqlite" && e !== "postgres") throw new Error(`BENCH_ENGINES: "${e}" is not sqlite or postgres`);
if (engines.length === 0 || new Set(engines).size !== engines.length)
  throw new Error("BENCH_ENGINES: name each engine once");

export const options = {
  seconds: env("BENCH_DURATION", 10),
  connections: env("BENCH_CONNECTIONS", 64),
  rounds: env("BENCH_ROUNDS", 1),
  starts: env("BENCH_STARTS", 5),
  idleSeconds: env("BENCH_IDLE_SECONDS", 60, 0),
  userCount: env("BENCH_USERS", 10_000),
  articleCount: env("BENCH_ARTICLES", 100_000),
  selected: workloads.filter((w) => !only || only.includes(w.id)),
  engines: engines as Engine[],
  profile: process.env.BENCH_PROFILE === "1",
  profileDir: join(tmpdir(), "quire-bench-profiles"),
};

export const log = (line: string) => console.error(`bench: ${line}`);

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "–";

export const engineTitle = (e: Engine) => (e === "sqlite" ? "SQLite" : "Postgres");
