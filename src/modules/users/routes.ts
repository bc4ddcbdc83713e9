import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { errors } from "../shared/model.ts";
import { LoginBody, RegisterBody, UpdateUserBody, UserEnvelope } from "./model.ts";
import { getCurrentUser, loginUser, registerUser, updateUser } from "./service.ts";

export const usersRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/users", tags: ["Users"] })
    .use(authPlugin(ctx))
    .post(
      "/api/users",
      async ({ body, issueToken, status }) => status(201, await registerUser(ctx, body.user, issueToken)),
      {
        body: RegisterBody,
        response: { 201: UserEnvelope, ...errors(409, 413, 415, 422) },
        detail: {
          summary: "Register",
          description: "Create an account and sign in; returns the user with a token.",
        },
      },
    )
    .post("/api/users/login", ({ body, issueToken }) => loginUser(ctx, body.user, issueToken), {
      body: LoginBody,
      response: { 200: UserEnvelope, ...errors(401, 413, 415, 422) },
      detail: {
        summary: "Log in",
        description:
          "Exchange email and password for a token. Unknown email and wrong password answer alike.",
      },
    })
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
