import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { clientOf } from "../../http/client-ip.ts";
import { rateLimitMacro } from "../../http/rate-limit.ts";
import { errors } from "../shared/model.ts";
import { LoginBody, RegisterBody, UpdateUserBody, UserEnvelope } from "./model.ts";
import { getCurrentUser, loginUser, registerUser, updateUser } from "./service.ts";

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
        response: { 201: UserEnvelope, ...errors(409, 413, 415, 422, 429) },
        detail: {
          summary: "Register",
          description:
            "Create an account and sign in; returns the user with a token and a refreshToken. Fields other than username, email and password (a `role`, say) are ignored.",
        },
      },
    )
    .post(
      "/api/users/login",
      ({ body, issueToken, request }) =>
        loginUser(ctx, body.user, issueToken, { ip: clientOf(request).ip }),
      {
        body: LoginBody,
        rateLimit: "login",
        response: { 200: UserEnvelope, ...errors(401, 413, 415, 422, 429) },
        detail: {
          summary: "Log in",
          description:
            "Exchange email and password for a token and a refreshToken (a new session). Unknown email, wrong password and suspended account answer alike.",
        },
      },
    )
    .get("/api/user", ({ viewer }) => getCurrentUser(ctx, viewer), {
      auth: true,
      response: { 200: UserEnvelope, ...errors(401) },
      detail: { summary: "Current user", security: [{ Token: [] }] },
    })
    .put("/api/user", ({ viewer, body }) => updateUser(ctx, viewer, body.user), {
      auth: true,
      body: UpdateUserBody,
      response: { 200: UserEnvelope, ...errors(401, 409, 413, 415, 422) },
      detail: {
        summary: "Update current user",
        description:
          'Partial update. `bio` and `image` accept `null` or `""` to clear. A password change ends every other session of the account; this one keeps working.',
        security: [{ Token: [] }],
      },
    });
