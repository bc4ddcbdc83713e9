/**
 * Engine-neutral store errors. Each engine turns its driver's errors into these at its boundary, so services
 * and the HTTP error handler never look at an SQLite result code or a Postgres SQLSTATE.
 */
import type { AppError } from "../errors.ts";

/**
 * A unique index refused a row. `constraint` is the index's name as the schemas spell it (both engines'
 * schemas use the same names, e.g. `users_email_lower_uq`).
 */
export class UniqueViolation extends Error {
  override name = "UniqueViolation";
  constructor(
    readonly constraint: string,
    options?: { cause?: unknown },
  ) {
    super(`unique constraint ${constraint} violated`, options);
  }
}

/**
 * A row refers to one that is gone (a foreign key): typically the article a comment or a favourite was for
 * was deleted between the check and the write. The unit changed nothing.
 */
export class MissingReference extends Error {
  override name = "MissingReference";
  constructor(options?: { cause?: unknown }) {
    super("a referenced row does not exist", options);
  }
}

export type UnavailableReason = "busy" | "full" | "read-only" | "io" | "unreachable";

/**
 * The engine cannot do this now, through no fault of the request: another process held the write lock too
 * long, the disk is full, the database is read-only, an I/O error, the server is unreachable. Answered 503
 * with Retry-After; nothing was changed.
 */
export class StoreUnavailable extends Error {
  override name = "StoreUnavailable";
  /** The engine's own code (an SQLite result code, a Postgres SQLSTATE), for the operator's log. */
  readonly code: string | undefined;
  constructor(
    readonly reason: UnavailableReason,
    options?: { cause?: unknown; code?: string },
  ) {
    super(`database unavailable (${reason})`, options);
    this.code = options?.code;
  }
}

/**
 * Turn a unique violation into the API error the caller names for its constraint (as
 * launchbadge/realworld-axum-sqlx's `on_constraint` does); anything else comes back unchanged, so the usual
 * shape is `catch (err) { throw await onConstraint(err, { users_email_lower_uq: () => conflict("email") }) }`.
 * A mapper may be async (it may ask the store which fields are taken).
 */
export async function onConstraint(
  err: unknown,
  map: Record<string, () => AppError | Promise<AppError>>,
): Promise<unknown> {
  if (err instanceof UniqueViolation) {
    const make = map[err.constraint];
    if (make) return make();
  }
  return err;
}

/** The constraint a unique violation is about, or undefined for any other error. */
export const violatedConstraint = (err: unknown): string | undefined =>
  err instanceof UniqueViolation ? err.constraint : undefined;
