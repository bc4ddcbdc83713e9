import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { clientOf } from "../../http/client-ip.ts";
import { security } from "../../http/docs.ts";
import { errorDoc } from "../../http/model.ts";
import { rateLimitMacro } from "../../http/rate-limit.ts";
import { unverifiedDoc } from "../accounts/model.ts";
import { LoginBody, RegisterBody, SignedInEnvelope, UpdateUserBody, UserEnvelope } from "./model.ts";
import { getCurrentUser, loginUser, registerUser, updateUser } from "./service.ts";

/** getCurrentUser/updateUser also answer 401 when the token's account no longer exists. */
const signedOut = errorDoc(
  "No token, or one that is malformed, expired or revoked, or whose account no longer exists",
  { token: ["is missing"] },
  { token: ["is invalid"] },
);
const taken = errorDoc(
  "The username or email is taken (compared regardless of case); every taken field is named",
  { username: ["has already been taken"] },
  { username: ["has already been taken"], email: ["has already been taken"] },
);

export const usersRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/users", tags: ["Users"] })
    .use(authPlugin(ctx))
    .use(rateLimitMacro(ctx))
    .post(
      "/api/users",
      async ({ body, issueToken, status }) => status(201, await registerUser(ctx, body.user, issueToken)),
      {
        body: RegisterBody,
        rateLimit: "register",
        response: {
          201: SignedInEnvelope,
          403: errorDoc("Sign-up is switched off (feature flag `registration`)", {
            registration: ["is closed"],
          }),
          409: taken,
          422: errorDoc(
            "A field is missing or invalid",
            { username: ["can't be blank"] },
            { email: ["is invalid"] },
            { password: ["is too short (minimum is 8 characters)"] },
          ),
        },
        detail: {
          summary: "Register",
          description:
            "Create an account (with the server's default role, DEFAULT_ROLE) and sign in: the answer carries an access `token` and a `refreshToken`. Fields other than username, email and password (a `role`, say) are ignored. Counts against the per-IP registration budget (RATE_LIMIT_AUTH_PER_MINUTE).",
        },
      },
    )
    .post(
      "/api/users/login",
      ({ body, issueToken, request }) => loginUser(ctx, body.user, issueToken, { ip: clientOf(request).ip }),
      {
        body: LoginBody,
        rateLimit: "login",
        response: {
          200: SignedInEnvelope,
          401: errorDoc("Unknown email, wrong password and suspended account answer alike", {
            credentials: ["invalid"],
          }),
          422: errorDoc(
            "A field is missing",
            { email: ["can't be blank"] },
            { password: ["can't be blank"] },
          ),
        },
        detail: {
          summary: "Log in",
          description:
            "Exchange email (any case) and password for an access `token` and a `refreshToken`: a new session. Unknown email, wrong password and suspended account answer alike (and take the same time); the audit log records which it was. Counts against the per-IP login budget (RATE_LIMIT_AUTH_PER_MINUTE).",
        },
      },
    )
    .get("/api/user", ({ viewer }) => getCurrentUser(ctx, viewer), {
      auth: true,
      response: { 200: UserEnvelope, 401: signedOut },
      detail: {
        summary: "Current user",
        description:
          "The signed-in account, with the token this request presented (no `refreshToken`). Never cached by HTTP caches (`Cache-Control: no-store`).",
        security: security.required,
      },
    })
    .put("/api/user", ({ viewer, body }) => updateUser(ctx, viewer, body.user), {
      auth: true,
      body: UpdateUserBody,
      response: {
        200: UserEnvelope,
        401: signedOut,
        403: {
          ...unverifiedDoc,
          description: `${unverifiedDoc.description}, and the change touches the public profile (username, bio or image): the address and the password may still change`,
        },
        409: taken,
        422: errorDoc(
          "A field is invalid",
          { image: ["must be an http(s) URL"] },
          { username: ["is invalid"] },
          { password: ["is too short (minimum is 8 characters)"] },
        ),
      },
      detail: {
        summary: "Update current user",
        description:
          'Partial update: only the fields sent change. `bio` and `image` accept `null` or `""` to clear; `image` must be an http(s) URL. A password change ends every other session of the account (this one keeps working), stops earlier password-reset links and is audited. A new `email` (not just a change of case) is unverified (`emailVerified: false`) until the link sent to it is followed; the old address gets a notice. An empty `user` changes nothing and answers the user as is.',
        security: security.required,
      },
    });
