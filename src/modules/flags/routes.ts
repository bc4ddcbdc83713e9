import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { clientOf } from "../../http/client-ip.ts";
import { errors } from "../shared/model.ts";
import { FlagEnvelope, FlagList, FlagParams, PatchFlagBody } from "./model.ts";
import { listFlags, setFlag } from "./service.ts";

const security = [{ Token: [] }];

export const flagsRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/flags", tags: ["Admin"] })
    .use(authPlugin(ctx))
    .get("/api/admin/flags", () => listFlags(ctx), {
      admin: true,
      response: { 200: FlagList, ...errors(401, 403) },
      detail: { summary: "List feature flags", security },
    })
    .patch(
      "/api/admin/flags/:name",
      ({ params, body, viewer, request }) =>
        setFlag(ctx, params.name, body, { id: viewer.id, ip: clientOf(request).ip }),
      {
        admin: true,
        params: FlagParams,
        body: PatchFlagBody,
        response: { 200: FlagEnvelope, ...errors(401, 403, 404, 413, 415, 422) },
        detail: {
          summary: "Switch a feature flag",
          description:
            "Takes effect at once. A `QUIRE_FLAG_<NAME>` environment override still wins (see `source`).",
          security,
        },
      },
    );
