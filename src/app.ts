/**
 * createApp(ctx): the whole HTTP application, plugins first, then feature modules. It never listens, so tests
 * drive it in-process with `app.handle(request)` and main.ts decides how to serve it.
 */
import { type AnyElysia, Elysia } from "elysia";
import type { AppContext } from "./context.ts";
import { bodyPlugin } from "./http/body.ts";
import { clientPlugin, type PeerAddress } from "./http/client-ip.ts";
import { compressionPlugin } from "./http/compression.ts";
import { errorsPlugin } from "./http/errors.ts";
import { httpCaching } from "./http/etag.ts";
import { healthRoutes } from "./http/health.ts";
import { maintenancePlugin } from "./http/maintenance.ts";
import { metricsPlugin, metricsRoutes } from "./http/metrics.ts";
import { openapiPlugin } from "./http/openapi.ts";
import { rateLimitPlugin } from "./http/rate-limit.ts";
import { requestLogPlugin } from "./http/request-log.ts";
import { corsPlugin, securityHeaders } from "./http/security.ts";
import { urlGuard } from "./http/url.ts";
import { accountsRoutes } from "./modules/accounts/routes.ts";
import { adminRoutes } from "./modules/admin/routes.ts";
import { articlesRoutes } from "./modules/articles/routes.ts";
import { auditRoutes } from "./modules/audit/routes.ts";
import { backupsRoutes } from "./modules/backups/routes.ts";
import { commentsRoutes } from "./modules/comments/routes.ts";
import { flagGates } from "./modules/flags/gate.ts";
import { flagsRoutes } from "./modules/flags/routes.ts";
import { jobsRoutes } from "./modules/jobs/routes.ts";
import { profilesRoutes } from "./modules/profiles/routes.ts";
import { realtimeRoutes, realtimeWebsocketOptions } from "./modules/realtime/routes.ts";
import { sessionsRoutes } from "./modules/sessions/routes.ts";
import { tagsRoutes } from "./modules/tags/routes.ts";
import { usersRoutes } from "./modules/users/routes.ts";
import { webhooksRoutes } from "./modules/webhooks/routes.ts";

export interface AppOptions {
  /** Tests only: where a request came from (in-process requests have no socket). Default: Bun's peer. */
  peerAddress?: PeerAddress;
  /** The OpenTelemetry plugin when tracing is on (src/http/telemetry.ts, loaded by `serve`). */
  telemetry?: AnyElysia;
}

export function createApp(ctx: AppContext, options: AppOptions = {}) {
  // Bun's WebSocket settings are server-wide, so they live on the root instance (src/modules/realtime).
  const root = new Elysia({
    name: "quire",
    normalize: true,
    websocket: realtimeWebsocketOptions(ctx.config),
  });
  // First, so its spans wrap everything; outside the typed chain below (`use` mutates the instance).
  if (options.telemetry) root.use(options.telemetry);
  return (
    root
      // Request id, access log and request metrics see every request, refused ones included; metrics
      // observe errors before the errors plugin answers them.
      .use(requestLogPlugin(ctx))
      // Wraps the whole handler: compresses each finished response (src/http/compression.ts).
      .use(compressionPlugin())
      .use(metricsPlugin(ctx))
      .use(clientPlugin(ctx, options.peerAddress))
      .use(securityHeaders())
      .use(corsPlugin(ctx.config.CORS_ORIGINS))
      // A URL that does not parse (authority-form target, bad Host) is a 400 here, before any hook reads it.
      .use(urlGuard())
      // After CORS, which sets Vary first; before the routes, whose GET answers it tags with ETags.
      .use(httpCaching())
      .use(errorsPlugin(ctx.log, ctx.store.normaliseError))
      .use(rateLimitPlugin(ctx))
      // Before the body is read: read-only mode and closed features cost nothing.
      .use(maintenancePlugin(ctx))
      .use(flagGates(ctx))
      .use(bodyPlugin(ctx.config.BODY_LIMIT_BYTES))
      .use(openapiPlugin(() => root.routes, ctx.config.BODY_LIMIT_BYTES))
      .use(healthRoutes(ctx))
      .use(metricsRoutes(ctx))
      .use(usersRoutes(ctx))
      .use(sessionsRoutes(ctx))
      .use(accountsRoutes(ctx))
      .use(profilesRoutes(ctx))
      .use(articlesRoutes(ctx))
      .use(commentsRoutes(ctx))
      .use(tagsRoutes(ctx))
      .use(realtimeRoutes(ctx))
      .use(adminRoutes(ctx))
      .use(auditRoutes(ctx))
      .use(backupsRoutes(ctx))
      .use(jobsRoutes(ctx))
      .use(webhooksRoutes(ctx))
      .use(flagsRoutes(ctx))
  );
}

export type App = ReturnType<typeof createApp>;
