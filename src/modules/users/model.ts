import { t } from "elysia";
import { component } from "../../http/docs.ts";
import { limits, profileExample } from "../../http/model.ts";

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

const credentials = { email: "jake@example.com", password: "jakejakejake" };

export const RegisterBody = t.Object(
  { user: component("NewUser", t.Object({ username: Username, email: Email, password: Password })) },
  { examples: [{ user: { username: "jake", ...credentials } }] },
);
export const LoginBody = t.Object(
  {
    user: component(
      "LoginUser",
      t.Object({
        email: t.String({ minLength: 1, maxLength: limits.email }),
        password: t.String({ minLength: 1, maxLength: limits.passwordMax }),
      }),
    ),
  },
  { examples: [{ user: credentials }] },
);
export const UpdateUserBody = t.Object(
  {
    user: component(
      "UpdateUser",
      t.Object(
        {
          username: t.Optional(Username),
          email: t.Optional(Email),
          password: t.Optional(Password),
          bio: t.Optional(Bio),
          image: t.Optional(Image),
        },
        { description: 'Only the fields sent change; `bio` and `image` accept `null` or `""` to clear' },
      ),
    ),
  },
  { examples: [{ user: { bio: "I like to skateboard", image: "https://example.com/avatars/jake.png" } }] },
);

export const User = component(
  "User",
  t.Object({
    email: t.String(),
    token: t.String({ description: "Access token: send as `Authorization: Token <token>` (or `Bearer`)" }),
    username: t.String(),
    bio: t.Nullable(t.String()),
    image: t.Nullable(t.String()),
    emailVerified: t.Boolean({
      description:
        "Whether a link sent to `email` was followed (POST /api/users/verify-email). A new address starts unverified. With REQUIRE_VERIFIED_EMAIL_TO_WRITE, unverified accounts are read-only.",
    }),
    refreshToken: t.Optional(
      t.String({
        description:
          "Returned by registration, login and refresh only: exchange it at POST /api/users/refresh for a new token (and a new refreshToken; the old one is retired). Never an access token.",
      }),
    ),
  }),
);

/** A signed-in user as the examples show it (the token is a made-up JWT of the right shape). */
export const userExample = {
  email: credentials.email,
  token:
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsInNpZCI6InNfOEpjMiIsInR5cCI6ImFjY2VzcyIsImV4cCI6MTc2NzIyNTYwMH0.ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM",
  username: profileExample.username,
  bio: profileExample.bio,
  image: profileExample.image,
  emailVerified: true,
};
export const refreshTokenExample = "rt_BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSY";

export const UserEnvelope = t.Object(
  { user: User },
  {
    description: "The signed-in user, with the token this request presented",
    examples: [{ user: userExample }],
  },
);
/** What registration, login and refresh answer: the user with a new token and refresh token. */
export const SignedInEnvelope = t.Object(
  { user: User },
  {
    description: "Signed in: the user, with a new access token and refresh token",
    examples: [{ user: { ...userExample, refreshToken: refreshTokenExample } }],
  },
);

export type RegisterInput = (typeof RegisterBody.static)["user"];
export type LoginInput = (typeof LoginBody.static)["user"];
export type UpdateUserInput = (typeof UpdateUserBody.static)["user"];
