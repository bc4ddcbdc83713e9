import { Elysia, t } from "elysia";
import type { AppContext } from "../../context.ts";
import { reply } from "../../http/etag.ts";
import { listTags } from "./service.ts";

const TagList = t.Object(
  { tags: t.Array(t.String()) },
  { description: "The tags in use", examples: [{ tags: ["dragons", "training"] }] },
);

export const tagsRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/tags", tags: ["Tags"] }).get(
    "/api/tags",
    async ({ request, set }) => reply(request, set, await listTags(ctx)),
    {
      response: { 200: TagList },
      detail: {
        summary: "List tags",
        description:
          "Every tag used by at least one article, alphabetically (tags of deleted articles disappear). No token needed.",
      },
    },
  );
