/**
 * The API's documentation: the OpenAPI 3.1 document at /openapi/json (built by ./openapi-document.ts from the
 * route table on the first request, then kept as one serialized body with its ETag) and Swagger UI at
 * /openapi. The UI's assets are embedded in the binary (`with { type: "file" }`) and served from here: no CDN.
 */
import { SwaggerUIRender } from "@elysiajs/openapi/swagger";
import { Elysia } from "elysia";
import swaggerCss from "swagger-ui-dist/swagger-ui.css" with { type: "file" };
import swaggerBundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import pkg from "../../package.json" with { type: "json" };
import { CachedJson } from "../lib/cached-json.ts";
import { reply } from "./etag.ts";
import { buildOpenApiDocument, type DocumentOptions, type RouteLike } from "./openapi-document.ts";
import { staticAsset } from "./static-asset.ts";
import { requestPath } from "./url.ts";

const assets = "/openapi/assets";
/** The docs page needs its own script and inline bootstrap; everything else keeps `default-src 'none'`. */
const docsCsp =
  "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

export const description = `Quire: a social publishing API, wire-compatible with the RealWorld ("Conduit") API spec 2.0.0.

Authenticate with \`Authorization: Token <token>\` (or \`Bearer <token>\`), the token coming from registration or login.

Errors always use the envelope \`{"errors": {"<field>": ["<message>"]}}\`. Every request counts against a per-IP rate limit
(429 with \`Retry-After\`). Writes answer 503 with \`Retry-After\` in maintenance mode or while the database is busy.
JSON GET answers carry an \`ETag\`: send it back in \`If-None-Match\` to get a 304 when nothing changed.`;

const documentation: Omit<DocumentOptions, "bodyLimitBytes"> = {
  info: { title: "Quire API", version: pkg.version, description },
  tags: [
    { name: "Users", description: "Registration, login, token refresh, logout and the current user" },
    { name: "Profiles", description: "Profiles and follows" },
    { name: "Articles", description: "Articles, favorites, the feed and full-text search" },
    { name: "Comments", description: "Comments on articles" },
    { name: "Tags", description: "Tags in use" },
    { name: "Realtime", description: "Live updates: WebSocket pub/sub with resume, SSE fallback" },
    {
      name: "Admin",
      description:
        "Administration (admins only): users, roles, suspension, moderation, audit log, backups, jobs, webhooks, feature flags",
    },
    {
      name: "Operations",
      description: "Health probes and Prometheus metrics, for load balancers and monitoring",
    },
  ],
  securitySchemes: {
    Token: {
      type: "apiKey",
      in: "header",
      name: "Authorization",
      description:
        'RealWorld style: "Token <jwt>" ("Bearer <jwt>" is accepted too), the `token` from registration, login or refresh. Routes that require the `admin` role answer 403 to other accounts.',
    },
    MetricsToken: {
      type: "http",
      scheme: "bearer",
      description: "METRICS_TOKEN, only when the server sets it",
    },
  },
};

/** Attribute-safe text: the description quotes `"…"` and `<token>`, which would end the meta tag. */
const escapeHtml = (text: string) => Bun.escapeHTML(text);

/** Swagger UI's page, rendered here: the plugin would put the description into `<meta>` attributes raw. */
const page = () =>
  SwaggerUIRender(
    {
      title: escapeHtml(documentation.info.title),
      version: pkg.version,
      description: escapeHtml(description),
    },
    {
      cdn: `${assets}/swagger-ui-bundle.js`,
      theme: `${assets}/swagger-ui.css`,
      persistAuthorization: true,
      validatorUrl: "none",
      // Absolute spec URL: a relative one breaks when the page is opened as /openapi/.
      ...({ url: "/openapi/json", dom_id: "#swagger-ui" } as object),
    },
  );

/** Both built on first use (most processes never serve them), then kept for the process's life. */
function lazy<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= build();
    return value;
  };
}

export const openapiPlugin = (routes: () => RouteLike[], bodyLimitBytes: number) => {
  const spec = lazy(() =>
    CachedJson.of(buildOpenApiDocument(routes(), { ...documentation, bodyLimitBytes })),
  );
  const html = lazy(page);
  return new Elysia({ name: "quire/openapi", seed: bodyLimitBytes })
    .onRequest(({ request, set }) => {
      // Only a URL naming "openapi" can have a path under /openapi (the parser decodes no letters): the
      // other requests skip parsing it.
      if (request.url.includes("openapi") && requestPath(request).startsWith("/openapi"))
        set.headers["content-security-policy"] = docsCsp;
    })
    .get(`${assets}/swagger-ui-bundle.js`, staticAsset(swaggerBundle, "text/javascript; charset=utf-8"), {
      detail: { hide: true },
    })
    .get(`${assets}/swagger-ui.css`, staticAsset(swaggerCss, "text/css; charset=utf-8"), {
      detail: { hide: true },
    })
    .get("/openapi/json", ({ request, set }) => reply(request, set, spec()), { detail: { hide: true } })
    .get(
      "/openapi",
      () => new Response(html(), { headers: { "content-type": "text/html; charset=utf-8" } }),
      { detail: { hide: true } },
    );
};
