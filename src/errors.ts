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
