/**
 * What DATABASE_URL names: a Postgres server (`postgres://` or `postgresql://`) or an SQLite file (any other
 * value, or `:memory:`). A Postgres URL may carry a password, so anything that prints it (logs, errors,
 * `--help`) prints `redactDatabaseUrl(url)` instead.
 */

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** The URL with its password (and any `password=` parameter) replaced by `***`; other values unchanged. */
export function redactDatabaseUrl(url: string): string {
  if (!isPostgresUrl(url)) return url;
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    if (u.searchParams.has("password")) u.searchParams.set("password", "***");
    return u.toString();
  } catch {
    return "postgres://(unparseable URL)";
  }
}

/**
 * Why a Postgres URL cannot be used, or undefined. Never echoes the value (it may hold a password).
 */
export function postgresUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "is not a valid URL (postgres://user:password@host:5432/database)";
  }
  if (!u.hostname) return "names no host (postgres://user:password@host:5432/database)";
  if (u.pathname.replace(/^\//, "") === "")
    return "names no database (postgres://user:password@host:5432/database)";
  return undefined;
}
