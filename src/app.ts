/**
 * createApp(ctx): the whole HTTP application, plugins first, then feature modules. It never listens, so tests
 * drive it in-process with `app.handle(request)` and main.ts decides how to serve it.
 */
import { Elysia } from "elysia";
import type { AppContext } from "./context.ts";
import { bodyPlugin } from "./http/body.ts";
import { errorsPlugin } from "./http/errors.ts";
import { openapiPlugin } from "./http/openapi.ts";
import { corsPlugin, securityHeaders } from "./http/security.ts";
import { articlesRoutes } from "./modules/articles/routes.ts";
import { commentsRoutes } from "./modules/comments/routes.ts";
import { profilesRoutes } from "./modules/profiles/routes.ts";
import { tagsRoutes } from "./modules/tags/routes.ts";
import { usersRoutes } from "./modules/users/routes.ts";

export function createApp(ctx: AppContext) {
  return new Elysia({ name: "quire", normalize: true })
    .use(securityHeaders())
    .use(corsPlugin(ctx.config.CORS_ORIGINS))
    .use(errorsPlugin(ctx.log))
    .use(bodyPlugin(ctx.config.BODY_LIMIT_BYTES))
    .use(openapiPlugin())
    .use(usersRoutes(ctx))
    .use(profilesRoutes(ctx))
    .use(articlesRoutes(ctx))
    .use(commentsRoutes(ctx))
    .use(tagsRoutes(ctx));
}

export type App = ReturnType<typeof createApp>;
