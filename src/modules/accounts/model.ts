import { t } from "elysia";
import { component, documented, withExamples } from "../../http/docs.ts";
import { errorDoc, limits } from "../../http/model.ts";
import { UNVERIFIED_MESSAGE } from "../../policy.ts";

const tokenExample = (prefix: string) => `${prefix}Xq3vTz0bWcN8yJkA2dLsE5fRgH7uIoP1aQmZ9xC4vB6n`;
export const resetTokenExample = tokenExample("pr_");
export const verifyTokenExample = tokenExample("ev_");

/** Any string up to a size: a malformed token gets the same answer as an unknown one (the service checks). */
const Token = (description: string) => t.String({ minLength: 1, maxLength: 1024, description });

export const PasswordResetBody = t.Object(
  {
    user: component(
      "PasswordResetRequest",
      t.Object({ email: t.String({ minLength: 1, maxLength: limits.email, format: "email" }) }),
    ),
  },
  { examples: [{ user: { email: "jake@example.com" } }] },
);

export const Accepted = component(
  "Accepted",
  t.Object(
    { message: t.String() },
    {
      description:
        "Accepted: an email may follow. The same answer whether or not an account uses the address",
    },
  ),
);
export const ResetRequested = withExamples(Accepted, {
  message: "If an account uses this address, an email with a link to reset its password is on its way.",
});
export const VerificationRequested = {
  ...withExamples(Accepted, { message: "A link to verify your address is on its way." }),
  description: "Accepted: a link is on its way to the account's address",
};

export const PasswordResetConfirmBody = component(
  "PasswordResetConfirm",
  t.Object(
    {
      token: Token("The `token=` value from the reset email"),
      password: t.String({
        minLength: limits.passwordMin,
        maxLength: limits.passwordMax,
        description: "The new password: at least 8 characters; never returned or logged",
      }),
    },
    { examples: [{ token: resetTokenExample, password: "a brand new passphrase" }] },
  ),
);

export const VerifyEmailBody = component(
  "VerifyEmail",
  t.Object(
    { token: Token("The `token=` value from the verification email") },
    { examples: [{ token: verifyTokenExample }] },
  ),
);

export const VerifiedEnvelope = t.Object(
  {
    user: component(
      "VerifiedEmail",
      t.Object({ username: t.String(), email: t.String(), emailVerified: t.Literal(true) }),
    ),
  },
  {
    description: "The address is verified",
    examples: [{ user: { username: "jake", email: "jake@example.com", emailVerified: true } }],
  },
);

export const DeleteAccountBody = t.Object(
  {
    user: component(
      "DeleteAccount",
      t.Object({
        password: t.String({
          minLength: 1,
          maxLength: limits.passwordMax,
          description: "The account's current password",
        }),
      }),
    ),
  },
  { examples: [{ user: { password: "jakejakejake" } }] },
);

const iso = "2026-01-02T03:04:05.000Z";
const exportExample = {
  exportedAt: iso,
  user: {
    username: "jake",
    email: "jake@example.com",
    emailVerified: true,
    emailVerifiedAt: iso,
    bio: "I work at statefarm",
    image: null,
    role: "editor",
    suspended: false,
    createdAt: iso,
    updatedAt: iso,
  },
  articles: [
    {
      slug: "how-to-train-your-dragon",
      title: "How to train your dragon",
      description: "Ever wonder how?",
      body: "You have to believe",
      tagList: ["dragons", "training"],
      favoritesCount: 3,
      createdAt: iso,
      updatedAt: iso,
    },
  ],
  comments: [
    { id: 7, article: { slug: "a-friends-article" }, body: "Nice!", createdAt: iso, updatedAt: iso },
  ],
  favorites: [{ article: { slug: "a-friends-article" }, createdAt: iso }],
  following: [{ username: "celeb_fan", since: iso }],
  sessions: [{ createdAt: iso, expiresAt: "2026-02-01T03:04:05.000Z", endedAt: null, current: true }],
  auditLog: [{ at: iso, action: "user.login", byYou: true, ip: "203.0.113.7" }],
};

const when = t.String({ format: "date-time" });
const slugRef = t.Object({ slug: t.String() });

/** Documented, not validated: the answer is streamed (its bytes never pass through a response schema). */
export const AccountExportDocument = documented(
  component(
    "AccountExport",
    t.Object(
      {
        exportedAt: when,
        user: t.Object({
          username: t.String(),
          email: t.String(),
          emailVerified: t.Boolean(),
          emailVerifiedAt: t.Nullable(when),
          bio: t.Nullable(t.String()),
          image: t.Nullable(t.String()),
          role: t.String(),
          suspended: t.Boolean(),
          createdAt: when,
          updatedAt: when,
        }),
        articles: t.Array(
          t.Object({
            slug: t.String(),
            title: t.String(),
            description: t.String(),
            body: t.String(),
            tagList: t.Array(t.String()),
            favoritesCount: t.Integer(),
            createdAt: when,
            updatedAt: when,
          }),
        ),
        comments: t.Array(
          t.Object({ id: t.Integer(), article: slugRef, body: t.String(), createdAt: when, updatedAt: when }),
        ),
        favorites: t.Array(t.Object({ article: slugRef, createdAt: when })),
        following: t.Array(t.Object({ username: t.String(), since: when })),
        sessions: t.Array(
          t.Object({
            createdAt: when,
            expiresAt: when,
            endedAt: t.Nullable(when),
            current: t.Boolean({ description: "The session this export was asked from" }),
          }),
        ),
        auditLog: t.Array(
          t.Object({
            at: when,
            action: t.String(),
            byYou: t.Boolean({ description: "false: done to the account (by an admin, say)" }),
            ip: t.Nullable(t.String({ description: "Only of entries the account made" })),
          }),
        ),
      },
      {
        description:
          "Everything the account owns or did. Never the password hash, token hashes, session ids or anyone else's address.",
        examples: [exportExample],
      },
    ),
  ),
  {
    contentType: "application/json",
    headers: {
      "Content-Disposition": {
        description: "`attachment`, with a file name: the body is a download",
        schema: { type: "string", examples: ['attachment; filename="quire-export-jake-2026-01-02.json"'] },
      },
    },
  },
);

/** The 403 of the writes an unverified account may not make (REQUIRE_VERIFIED_EMAIL_TO_WRITE). */
export const unverifiedExample = { email: [UNVERIFIED_MESSAGE] };
const UNVERIFIED = "REQUIRE_VERIFIED_EMAIL_TO_WRITE is on and the account's address is not verified";
export const unverifiedDoc = errorDoc(UNVERIFIED, unverifiedExample);

/** A route's own 403 answer with the unverified-address refusal added to it. */
export function orUnverified(doc: ReturnType<typeof errorDoc>): ReturnType<typeof errorDoc> {
  return {
    ...doc,
    description: `${doc.description}; or ${UNVERIFIED}`,
    examples: [...doc.examples, { errors: unverifiedExample }],
  };
}
