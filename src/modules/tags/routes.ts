import { Elysia, t } from "elysia";
import type { AppContext } from "../../context.ts";
import { reply } from "../../http/etag.ts";
import { listTags } from "./service.ts";

export const tagsRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/tags", tags: ["Tags"] }).get(
    "/api/tags",
    async ({ request, set }) => reply(request, set, await listTags(ctx)),
    {
      response: { 200: t.Object({ tags: t.Array(t.String()) }) },
      detail: {
        summary: "List tags",
        description: "Every tag used by at least one article, alphabetically.",
      },
    },
  );
