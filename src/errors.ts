/**
 * The error family services throw. One onError (src/http/errors.ts) turns each into the RealWorld envelope
 * `{"errors": {"<field>": ["<message>"]}}`. `name` is set explicitly because minification renames classes.
 */
export type ErrorFields = Record<string, string[]>;

export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly status: number,
    readonly fields: ErrorFields,
    readonly headers: Record<string, string> = {},
  ) {
    super(
      Object.entries(fields)
        .map(([k, v]) => `${k} ${v.join(", ")}`)
        .join("; "),
    );
  }
}

/**
 * The `WWW-Authenticate` challenge of a 401 (RFC 9110 §11.6.1 requires one). Both schemes the API accepts are
 * announced, RealWorld's `Token` first, then RFC 6750's `Bearer`; a token that was presented but refused adds
 * `error="invalid_token"` and why (RFC 6750 §3), a request without one gets the bare challenge.
 */
export function authChallenge(problem?: string): string {
  const params = problem
    ? `realm="quire", error="invalid_token", error_description="${problem}"`
    : 'realm="quire"';
  return `Token ${params}, Bearer ${params}`;
}

export type TokenProblem = "is missing" | "is invalid" | "has expired";

/**
 * 401 without a token is "is missing" (the RealWorld suite asserts it); a bad, forged or ended one is
 * "is invalid"; a token this server signed that ran past its `exp` "has expired".
 */
export const unauthorized = (message: TokenProblem = "is invalid") =>
  new AppError(
    401,
    { token: [message] },
    {
      "www-authenticate": authChallenge(message === "is missing" ? undefined : `the access token ${message}`),
    },
  );
export const forbidden = (field: string, message = "forbidden") => new AppError(403, { [field]: [message] });
export const notFound = (field: string) => new AppError(404, { [field]: ["not found"] });
export const conflict = (field: string) => new AppError(409, { [field]: ["has already been taken"] });
export const invalid = (field: string, message: string) => new AppError(422, { [field]: [message] });
export const blank = (field: string) => invalid(field, "can't be blank");

/** SQLite unique-constraint violation on the given index or column (bun:sqlite error code). */
export function uniqueViolation(err: unknown): string | undefined {
  if (!(err instanceof Error) || (err as { code?: string }).code !== "SQLITE_CONSTRAINT_UNIQUE")
    return undefined;
  return err.message;
}

/** The SQLite result code (extended, e.g. `SQLITE_IOERR_WRITE`) of an error however deeply Drizzle wrapped it. */
export function sqliteCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("SQLITE_")) return code;
  }
  return undefined;
}

/**
 * SQLite's "database is locked" once busy_timeout ran out (another process held the write lock that long),
 * however deeply wrapped (Drizzle wraps driver errors in `cause`). A transient condition: retry later.
 */
export function isSqliteBusy(err: unknown): boolean {
  return sqliteCode(err)?.startsWith("SQLITE_BUSY") ?? false;
}

/**
 * The storage under the database refuses writes: the disk is full (`SQLITE_FULL`, also past
 * `max_page_count`), the filesystem failed or went read-only (`SQLITE_IOERR_*`, `SQLITE_READONLY_*`), or a
 * journal file cannot be opened (`SQLITE_CANTOPEN_*`). Not the client's fault and not a bug: the operator
 * has to act, then writes succeed again. Returns the code, or undefined for any other error.
 */
export function sqliteStorageFailure(err: unknown): string | undefined {
  const code = sqliteCode(err);
  return code && /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN)(_|$)/.test(code) ? code : undefined;
}
