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

/** 401 without a token is "is missing" (the RealWorld suite asserts it); a bad or ended one is "is invalid". */
export const unauthorized = (message: "is missing" | "is invalid" = "is invalid") =>
  new AppError(401, { token: [message] });
export const forbidden = (field: string, message = "forbidden") => new AppError(403, { [field]: [message] });
export const notFound = (field: string) => new AppError(404, { [field]: ["not found"] });
export const conflict = (field: string) => new AppError(409, { [field]: ["has already been taken"] });
export const invalid = (field: string, message: string) => new AppError(422, { [field]: [message] });
export const blank = (field: string) => invalid(field, "can't be blank");
