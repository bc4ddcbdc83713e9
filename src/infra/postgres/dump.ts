/**
 * Backups of a Postgres database with the server's own tools: `pg_dump --format=custom` (one consistent
 * snapshot, taken while the server keeps serving) and `pg_restore`. Quire carries neither: they must be on
 * PATH (Debian: `apt-get install postgresql-client`, at least the server's major version). Without them the
 * error says exactly what to run instead.
 *
 * The password never appears on a command line (where `ps` shows it to every user of the host): the tools get
 * the URL without it and the password in PGPASSWORD. Their error output is passed on with the URL redacted.
 */
import { AppError } from "../../errors.ts";
import { redactDatabaseUrl } from "../../lib/database-url.ts";
import { writeNewFile } from "../../lib/new-file.ts";
import { BackupExists } from "../../store/ops.ts";

export type PgTool = "pg_dump" | "pg_restore";

/** A tool is not on PATH (501: this server cannot do it; the message says how to do it by hand). */
export class PgToolMissing extends AppError {
  override name = "PgToolMissing";
  constructor(
    readonly tool: PgTool,
    readonly command: string,
    why = `${tool} was not found on PATH: install the PostgreSQL client tools (Debian: apt-get install postgresql-client)`,
  ) {
    super(501, { backup: [`${why}, or run ${command}`] });
  }
}

/**
 * The tool on PATH is older than the server (pg_dump refuses to dump a newer server): as good as missing,
 * and as clear to fix, so the same 501 rather than a failure.
 */
function tooOld(tool: PgTool, stderr: string, manual: string): PgToolMissing | undefined {
  if (!/server version mismatch/i.test(stderr)) return undefined;
  const server = /server version:\s*([\d.]+)/i.exec(stderr)?.[1] ?? "?";
  const own = new RegExp(`${tool} version:\\s*([\\d.]+)`, "i").exec(stderr)?.[1] ?? "?";
  return new PgToolMissing(
    tool,
    manual,
    `${tool} ${own} on PATH is older than the Postgres server (${server}): install the client tools of the server's version or newer`,
  );
}

/** The tool ran and failed (its last lines, URL redacted). */
export class PgToolFailed extends Error {
  override name = "PgToolFailed";
}

/** The URL without its password, and the password apart (for PGPASSWORD). */
export function splitPassword(url: string): { url: string; password: string | undefined } {
  const u = new URL(url);
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  u.password = "";
  return { url: u.toString(), password };
}

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** The command an operator runs by hand (password left out: it is theirs to supply). */
export function dumpCommand(url: string, file: string): string {
  return `pg_dump --format=custom --file=${shellQuote(file)} ${shellQuote(redactDatabaseUrl(splitPassword(url).url))}`;
}

export function restoreCommand(url: string, file: string): string {
  return `pg_restore --single-transaction --exit-on-error --no-owner --no-privileges --dbname=${shellQuote(redactDatabaseUrl(splitPassword(url).url))} ${shellQuote(file)}`;
}

/** Run a tool with the database's password in its environment; resolves with its standard output. */
export async function runPgTool(tool: PgTool, args: string[], url: string, manual: string): Promise<string> {
  const path = Bun.which(tool);
  if (!path) throw new PgToolMissing(tool, manual);
  const { password } = splitPassword(url);
  const env: Record<string, string | undefined> = { ...process.env, PGPASSWORD: password };
  // The URL names the database; a PGDATABASE or PGSERVICE of the environment must not change where it goes.
  for (const name of ["PGDATABASE", "PGSERVICE", "PGSERVICEFILE"]) delete env[name];
  const child = Bun.spawn([path, ...args], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) {
    const old = tooOld(tool, err, manual);
    if (old) throw old;
    const tail = err.trim().split("\n").slice(-3).join(" | ");
    throw new PgToolFailed(`${tool} exited with ${code}: ${redactAll(tail, url)}`);
  }
  return out;
}

/** Any spelling of the URL (or its password) in a tool's message, redacted. */
function redactAll(text: string, url: string): string {
  const { password } = splitPassword(url);
  let out = text.replaceAll(url, redactDatabaseUrl(url));
  if (password) out = out.replaceAll(password, "***");
  return out;
}

/**
 * `pg_dump --format=custom` of the whole database into `file` (which must not exist; BackupExists otherwise),
 * written as src/lib/new-file.ts writes: complete or absent, owner-only. Returns its size in bytes.
 */
export function dumpTo(url: string, file: string): Promise<number> {
  if (!Bun.which("pg_dump")) return Promise.reject(new PgToolMissing("pg_dump", dumpCommand(url, file)));
  return writeNewFile(
    file,
    async (temp) => {
      await runPgTool(
        "pg_dump",
        ["--format=custom", `--file=${temp}`, `--dbname=${splitPassword(url).url}`],
        url,
        dumpCommand(url, file),
      );
    },
    () => new BackupExists(file),
  );
}
