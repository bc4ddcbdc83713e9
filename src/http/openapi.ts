/**
 * OpenAPI document generated from the route schemas (@elysiajs/openapi), at /openapi/json, and Swagger UI at
 * /openapi. The UI's assets are embedded in the binary (`with { type: "file" }`) and served from here: no CDN.
 */
import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import swaggerCss from "swagger-ui-dist/swagger-ui.css" with { type: "file" };
import swaggerBundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import pkg from "../../package.json" with { type: "json" };
import { staticAsset } from "./static-asset.ts";
import { requestPath } from "./url.ts";

const assets = "/openapi/assets";
/** The docs page needs its own script and inline bootstrap; everything else keeps `default-src 'none'`. */
const docsCsp =
  "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

export const description = `Quire: a social publishing API, wire-compatible with the RealWorld ("Conduit") API spec 2.0.0.

Authenticate with \`Authorization: Token <token>\` (or \`Bearer <token>\`), the token coming from registration or login.
Errors always use the envelope \`{"errors": {"<field>": ["<message>"]}}\`.`;

interface RouteLike {
  method: string;
  path: string;
  hooks?: { body?: unknown };
}
type Operation = { requestBody?: { content?: Record<string, unknown> } };

/**
 * @elysiajs/openapi documents a request body only when a route names a built-in parser; our JSON-only parser
 * (src/http/body.ts) is a function, which leaves `content` empty. Fill it in from the routes' body schemas,
 * once per generated document (the plugin caches and returns the same object).
 */
export function documentJsonBodies(
  spec: { paths?: Record<string, Record<string, Operation>> },
  routes: RouteLike[],
) {
  for (const route of routes) {
    if (!route.hooks?.body) continue;
    const op = spec.paths?.[route.path.replace(/:([^/]+)/g, "{$1}")]?.[route.method.toLowerCase()];
    if (op?.requestBody && Object.keys(op.requestBody.content ?? {}).length === 0) {
      op.requestBody.content = { "application/json": { schema: route.hooks.body } };
    }
  }
}

export const openapiPlugin = (routes: () => RouteLike[]) =>
  new Elysia({ name: "quire/openapi" })
    .onRequest(({ request, set }) => {
      if (requestPath(request).startsWith("/openapi")) set.headers["content-security-policy"] = docsCsp;
    })
    .onAfterHandle(({ path, response }) => {
      if (path === "/openapi/json" && response && typeof response === "object") {
        documentJsonBodies(response as Parameters<typeof documentJsonBodies>[0], routes());
      }
    })
    .get(`${assets}/swagger-ui-bundle.js`, staticAsset(swaggerBundle, "text/javascript; charset=utf-8"), {
      detail: { hide: true },
    })
    .get(`${assets}/swagger-ui.css`, staticAsset(swaggerCss, "text/css; charset=utf-8"), {
      detail: { hide: true },
    })
    .use(
      openapi({
        path: "/openapi",
        specPath: "/openapi/json",
        provider: "swagger-ui",
        swagger: {
          cdn: `${assets}/swagger-ui-bundle.js`,
          theme: `${assets}/swagger-ui.css`,
          persistAuthorization: true,
          validatorUrl: "none",
          // Absolute spec URL: the default relative one breaks when the page is opened as /openapi/.
          ...({ url: "/openapi/json" } as object),
        },
        documentation: {
          info: { title: "Quire API", version: pkg.version, description },
          tags: [
            {
              name: "Users",
              description: "Registration, login, token refresh, logout and the current user",
            },
            { name: "Profiles", description: "Profiles and follows" },
            { name: "Articles", description: "Articles, favorites and the feed" },
            { name: "Comments", description: "Comments on articles" },
            { name: "Tags", description: "Tags in use" },
            { name: "Realtime", description: "Live updates: WebSocket pub/sub with resume, SSE fallback" },
            {
              name: "Admin",
              description: "Administration (admins only): users, roles, suspension, moderation, audit log",
            },
          ],
          components: {
            securitySchemes: {
              Token: {
                type: "apiKey",
                in: "header",
                name: "Authorization",
                description: 'RealWorld style: "Token <jwt>". "Bearer <jwt>" is accepted too.',
              },
            },
          },
        },
      }),
    );
