/**
 * Maintenance (read-only) mode, switched by the `maintenance` feature flag. While it is on, every write
 * (POST, PUT, PATCH, DELETE) is answered 503 with `Retry-After` before any work is done; reads keep working.
 * Stay writable: the admin API (so an admin can switch it off) and signing in and out (so the admin can get a
 * token; these touch sessions, not content). Mounted early in createApp so nothing else runs first. The
 * refusal is thrown, not returned, so the access log and metrics see it (see src/http/url.ts).
 */
import { Elysia } from "elysia";
import type { AppContext } from "../context.ts";
import { AppError } from "../errors.ts";
import { requestPath } from "./url.ts";

/** Seconds a client is told to wait: long enough not to hammer, short enough to notice the end. */
export const MAINTENANCE_RETRY_AFTER_SECONDS = 120;

const writes = new Set(["POST", "PUT", "PATCH", "DELETE"]);
/** Paths that stay writable in maintenance mode (also what the OpenAPI document says). */
export const stillWritable = /^\/api\/(?:admin(?:\/|$)|users\/(?:login|logout|logout-all|refresh)(?:\/|$))/;

export const maintenancePlugin = (ctx: AppContext) =>
  new Elysia({ name: "quire/maintenance" }).onRequest(({ request }) => {
    if (!writes.has(request.method)) return;
    const path = requestPath(request);
    if (stillWritable.test(path) || !ctx.flags.isEnabled("maintenance")) return;
    throw new AppError(
      503,
      { maintenance: ["the service is read-only for maintenance; try again later"] },
      { "retry-after": String(MAINTENANCE_RETRY_AFTER_SECONDS) },
    );
  });
