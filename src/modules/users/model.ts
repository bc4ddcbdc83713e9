import { t } from "elysia";
import { limits } from "../shared/model.ts";

const Username = t.String({
  minLength: 1,
  maxLength: limits.username,
  pattern: "^[A-Za-z0-9_.\\-]+$",
  description: "Letters, digits, `_`, `.` and `-`; unique regardless of case",
});
const Email = t.String({ minLength: 1, maxLength: limits.email, format: "email" });
const Password = t.String({
  minLength: limits.passwordMin,
  maxLength: limits.passwordMax,
  description: "At least 8 characters; never returned or logged",
});
/** `""` and `null` both clear the field. */
const Bio = t.Nullable(t.String({ maxLength: limits.bio }));
const Image = t.Nullable(t.String({ maxLength: limits.url, description: "An http(s) URL" }));

export const RegisterBody = t.Object({
  user: t.Object({ username: Username, email: Email, password: Password }),
});
export const LoginBody = t.Object({
  user: t.Object({
    email: t.String({ minLength: 1, maxLength: limits.email }),
    password: t.String({ minLength: 1, maxLength: limits.passwordMax }),
  }),
});
export const UpdateUserBody = t.Object({
  user: t.Object({
    username: t.Optional(Username),
    email: t.Optional(Email),
    password: t.Optional(Password),
    bio: t.Optional(Bio),
    image: t.Optional(Image),
  }),
});

export const User = t.Object({
  email: t.String(),
  token: t.String({ description: "Access token: send as `Authorization: Token <token>` (or `Bearer`)" }),
  username: t.String(),
  bio: t.Nullable(t.String()),
  image: t.Nullable(t.String()),
  refreshToken: t.Optional(
    t.String({
      description:
        "Returned by registration, login and refresh only: exchange it at POST /api/users/refresh for a new token (and a new refreshToken; the old one is retired). Never an access token.",
    }),
  ),
});
export const UserEnvelope = t.Object({ user: User });

export type RegisterInput = (typeof RegisterBody.static)["user"];
export type LoginInput = (typeof LoginBody.static)["user"];
export type UpdateUserInput = (typeof UpdateUserBody.static)["user"];
