/** The markdown tables `bun run bench` prints: one per engine, both engines side by side, and memory. */
import type { LoadResult } from "./load.ts";
import { type Engine, engineTitle, fmt, median, type Name, options } from "./options.ts";
import type { Workload } from "./workloads.ts";

export interface EngineRun {
  engine: Engine;
  /** The workloads run on this engine, each with its reference servers. */
  workloads: { workload: Workload; refs: Name[] }[];
  results: Map<string, Partial<Record<Name, LoadResult[]>>>;
  /** Server CPU µs per answered request, per `${workload id} ${server}`, one figure per round. */
  cpu: Map<string, number[]>;
  /** Whether Quire and the SQL raw server answered the same bytes, per workload checked. */
  bytes: Map<string, boolean>;
  /** Quire's RSS in MiB: idle after start, signed in, after the load, after idling (filled last). */
  rss: { idle: number; signedIn: number; loaded: number; idled: number; samples: string[] };
  /** What the SQL raw server is, on this engine. */
  note: string;
}

const m = (rs: LoadResult[] | undefined, k: keyof LoadResult) =>
  rs?.length ? median(rs.map((r) => r[k])) : Number.NaN;
const cpuOf = (r: EngineRun, id: string, name: Name) => median(r.cpu.get(`${id} ${name}`) ?? [Number.NaN]);

/** One engine's table: Quire, its references, and the server CPU per request. */
export function engineTable(r: EngineRun): string {
  const sqlite = r.engine === "sqlite";
  const rows = r.workloads.map(({ workload: w, refs }) => {
    const e = r.results.get(w.id) ?? {};
    const rps = m(e.quire, "rps");
    const err = m(e.quire, "errors");
    const ref = (name: Name) => {
      if (!refs.includes(name)) return "| | | ";
      const theirs = m(e[name], "rps");
      return `| ${fmt(theirs)} | ${fmt(m(e[name], "p99Ms"), 2)} | ${(rps / theirs).toFixed(2)} `;
    };
    const same = r.bytes.has(w.id) ? (r.bytes.get(w.id) ? "" : " (bytes differ!)") : "";
    // The CPU column compares with the same-bytes server where there is one (SQLite reads), else SQL raw.
    const against: Name | undefined = refs.includes("bytes") ? "bytes" : sqlite ? undefined : "sql";
    const q = cpuOf(r, w.id, "quire");
    const cpu = against
      ? `${fmt(q)} / ${fmt(cpuOf(r, w.id, against))} (${(cpuOf(r, w.id, against) / q).toFixed(2)})`
      : fmt(q);
    const cells = `| ${w.title}${same} | ${fmt(rps)} | ${fmt(m(e.quire, "p50Ms"), 2)} | ${fmt(m(e.quire, "p99Ms"), 2)}${err ? ` (${fmt(err)} errors)` : ""} ${ref("sql")}`;
    return sqlite ? `${cells}${ref("bytes")}| ${cpu} |` : `${cells}| ${cpu} |`;
  });
  if (sqlite)
    return `SQLite: Quire vs "SQL raw" (${r.note}) and "same bytes" (Bun.serve replaying Quire's answers from memory, bench/raw.ts).

| workload | Quire req/s | p50 ms | p99 ms | SQL raw req/s | p99 ms | Quire/SQL raw | same bytes req/s | p99 ms | Quire/same bytes | server CPU µs/request: Quire / same bytes (ratio) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join("\n")}`;
  return `Postgres: Quire on DATABASE_URL=postgres://… vs "SQL raw" (${r.note}). Server CPU counts the server process only, not Postgres's own backends.

| workload | Quire req/s | p50 ms | p99 ms | SQL raw req/s | p99 ms | Quire/SQL raw | server CPU µs/request: Quire / SQL raw (ratio) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join("\n")}`;
}

/** Quire's and the SQL raw server's req/s on every engine, for the workloads every engine ran against SQL raw. */
export function summary(all: EngineRun[]): string {
  const everywhere = (id: string) =>
    all.every((r) => r.workloads.some((w) => w.workload.id === id && w.refs.includes("sql")));
  const lines = options.selected
    .filter((w) => everywhere(w.id))
    .map((w) => {
      const cells = all.flatMap((r) => {
        const e = r.results.get(w.id) ?? {};
        const q = m(e.quire, "rps");
        const b = m(e.sql, "rps");
        return [fmt(q), fmt(b), (q / b).toFixed(2)];
      });
      return `| ${w.title} | ${cells.join(" | ")} |`;
    });
  const head = all.map((r) => engineTitle(r.engine));
  return `Both engines (req/s):

| workload | ${head.map((h) => `${h} Quire | ${h} SQL raw | ${h} Quire/SQL raw`).join(" | ")} |
| --- | ${head.map(() => "---: | ---: | ---:").join(" | ")} |
${lines.join("\n")}`;
}

/** Quire's resident memory on every engine. */
export function rssTable(all: EngineRun[]): string {
  const rows = all.map(
    ({ engine, rss }) =>
      `| ${engineTitle(engine)} | ${rss.idle.toFixed(1)} | ${rss.signedIn.toFixed(1)} | ${rss.loaded.toFixed(1)} | ${rss.idled.toFixed(1)}${rss.samples.length ? ` (${rss.samples.join(", ")})` : ""} |`,
  );
  return `Quire's RSS (MiB):

| engine | idle after start | signed in (64 sessions) | after the load | after ${options.idleSeconds} s idle |
| --- | ---: | ---: | ---: | ---: |
${rows.join("\n")}`;
}
