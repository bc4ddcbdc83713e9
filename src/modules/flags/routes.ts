import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { clientOf } from "../../http/client-ip.ts";
import { security } from "../../http/docs.ts";
import { errorDoc } from "../../http/model.ts";
import { FlagEnvelope, FlagList, FlagParams, PatchFlagBody } from "./model.ts";
import { listFlags, setFlag } from "./service.ts";

export const flagsRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/flags", tags: ["Admin"] })
    .use(authPlugin(ctx))
    .get("/api/admin/flags", () => listFlags(ctx), {
      admin: true,
      response: { 200: FlagList },
      detail: {
        summary: "List feature flags",
        description:
          "Every flag Quire knows, with its effective value and where it comes from: a `QUIRE_FLAG_<NAME>` environment override, else the database, else the default.",
        security: security.admin,
      },
    })
    .patch(
      "/api/admin/flags/:name",
      ({ params, body, viewer, request }) =>
        setFlag(ctx, params.name, body, { id: viewer.id, ip: clientOf(request).ip }),
      {
        admin: true,
        params: FlagParams,
        body: PatchFlagBody,
        response: {
          200: FlagEnvelope,
          404: errorDoc("No flag has this name", { flag: ["not found"] }),
          422: errorDoc(
            "`enabled` is missing, or a percentage is given for a global flag",
            { enabled: ["can't be blank"] },
            { percentage: ["applies only to per-user flags"] },
          ),
        },
        detail: {
          summary: "Switch a feature flag",
          description:
            "Takes effect at once in this process (other processes see it within seconds). `percentage` (per-user flags only) rolls the flag out to that share of users. A `QUIRE_FLAG_<NAME>` environment override still wins (see `source`). Audited.",
          security: security.admin,
        },
      },
    );
