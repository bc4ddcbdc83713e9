import { t } from "elysia";
import { refreshTokenExample } from "../users/model.ts";

/** Only the length is checked here: a malformed token is the same 401 as an unknown one. */
export const RefreshBody = t.Object(
  {
    refreshToken: t.String({
      minLength: 1,
      maxLength: 4096,
      description: "The refreshToken from registration, login or the previous refresh",
    }),
  },
  { examples: [{ refreshToken: refreshTokenExample }] },
);
