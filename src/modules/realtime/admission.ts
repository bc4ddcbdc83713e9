/**
 * Who may open a realtime connection, decided before the upgrade (WebSocket) or the stream (SSE), in the
 * API's error envelope. Security model:
 * - Token: the same access tokens and session check as REST (`authenticate`). Browsers cannot set headers
 *   on a WebSocket, so the token may also come as `?token=` or as a `token.<jwt>` entry of
 *   Sec-WebSocket-Protocol (never echoed back). No token: an anonymous connection (public topics only); a
 *   token that is present must be valid (401).
 * - Origin: when CORS_ORIGINS is configured and not `*`, a browser's Origin must be in it (403). Requests
 *   without an Origin are not from a browser page and cannot be cross-site-hijacked; the token, not an
 *   ambient cookie, is what authenticates anyway.
 * - The `realtime` feature flag (src/modules/flags): off → 503.
 * - Connection limits (hub.ts; per IP and per user over the whole cluster when there is one): over the
 *   total → 503, per IP or per user → 429.
 */
import type { Server } from "bun";
import { decodeJwt } from "jose";
import type { AppContext } from "../../context.ts";
import { AppError, unauthorized } from "../../errors.ts";
import { bearerToken, type Viewer } from "../../http/auth.ts";
import { clientOf } from "../../http/client-ip.ts";
import type { ConnViewer } from "./connection.ts";
import type { RealtimeHub } from "./hub.ts";

export interface Admission {
  ip: string;
  viewer: ConnViewer | undefined;
}

/** The Sec-WebSocket-Protocol entry that carries a token. */
export const TOKEN_PROTOCOL_PREFIX = "token.";
/** The subprotocol the server selects (browsers require the server to pick one of those offered). */
export const PROTOCOL = "quire";

/** The token from the Authorization header, `?token=`, or (WebSocket) the subprotocol list. */
export function tokenOf(request: Request, url: URL, fromProtocols: boolean): string | undefined {
  const header = bearerToken(request.headers.get("authorization"));
  if (header) return header;
  const query = url.searchParams.get("token");
  if (query) {
    if (query.length > 4096) throw unauthorized();
    return query;
  }
  if (!fromProtocols) return undefined;
  const offered = offeredProtocols(request);
  const entry = offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  return entry ? entry.slice(TOKEN_PROTOCOL_PREFIX.length) : undefined;
}

export function offeredProtocols(request: Request): string[] {
  return (request.headers.get("sec-websocket-protocol") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}

function checkOrigin(ctx: AppContext, request: Request): void {
  const allowed = ctx.config.CORS_ORIGINS;
  const origin = request.headers.get("origin");
  if (!origin || allowed.length === 0 || allowed.includes("*") || allowed.includes(origin)) return;
  throw new AppError(403, { origin: ["is not allowed"] });
}

/** The client address key (IPv6: /64), from the client-ip plugin, else the socket. */
function ipOf(request: Request, server: Server<unknown> | null): string {
  const client = clientOf(request);
  if (client.key !== "unknown") return client.key;
  return server?.requestIP(request)?.address ?? "unknown";
}

/** Check everything that decides whether this request may connect; throws the refusal. */
export async function admit(
  ctx: AppContext,
  hub: RealtimeHub,
  request: Request,
  server: Server<unknown> | null,
  token: string | undefined,
  authenticate: (token: string) => Promise<Viewer>,
): Promise<Admission> {
  checkOrigin(ctx, request);
  const viewer = token === undefined ? undefined : await authenticate(token);
  if (!ctx.flags.isEnabled("realtime", viewer?.id))
    throw new AppError(503, { realtime: ["is disabled"] }, { "retry-after": "60" });
  const ip = ipOf(request, server);
  const refusal = await hub.checkAdmission(ip, viewer?.id);
  if (refusal) throw refusal;
  if (!viewer) return { ip, viewer: undefined };
  // authenticate() verified the token, so its `exp` can be trusted; the socket closes when it passes.
  const exp = decodeJwt(token!).exp;
  return {
    ip,
    viewer: {
      id: viewer.id,
      role: viewer.role,
      sessionId: viewer.sessionId,
      expiresAt: exp ? exp * 1000 : undefined,
    },
  };
}

/**
 * Whether the admitted viewer's session still lives once the connection is registered: a logout between the
 * upgrade's authentication and the socket opening would otherwise miss it (`sessions.ended` closes only
 * registered connections). Asked after registering, so a logout is either seen here or closes the socket.
 */
export async function stillSignedIn(ctx: AppContext, admission: Admission): Promise<boolean> {
  return !admission.viewer || (await ctx.sessions.check(admission.viewer.sessionId)) !== undefined;
}
