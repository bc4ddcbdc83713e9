/**
 * The client of every request, resolved when something first asks (src/lib/client-address.ts has the trust
 * model: TRUSTED_PROXIES, X-Forwarded-For walked from the right, IPv6 keyed by its /64). Most requests never
 * ask: with rate limiting off and no proxy trusted, an article read needs no client address, and Bun's
 * requestIP() (which formats the socket's address into a new string) is skipped. Asked or not, the answer
 * for a request is the same, and it is resolved at most once.
 */
import { Elysia } from "elysia";
import type { AppContext } from "../context.ts";
import { type ClientInfo, resolveClient, trustedProxies, trustsNone } from "../lib/client-address.ts";
import { type ClientResolver, stateOf } from "./request-state.ts";

export type { ClientInfo };

/** The part of Bun's server this needs (Elysia's `server` is null for in-process `app.handle`). */
interface Server {
  requestIP(request: Request): { address: string } | null;
}

const unknown: ClientInfo = Object.freeze({ key: "unknown", https: false });

/** Resolves the client address of a request (test apps have no server, so tests inject one). */
export type PeerAddress = (request: Request, server: Server | null) => string | undefined;

const defaultPeer: PeerAddress = (request, server) => server?.requestIP(request)?.address;

/** The client of a request, as resolved for clientPlugin (key "unknown" for a request it did not see). */
export function clientOf(request: Request): ClientInfo {
  const state = stateOf(request);
  if (!state?.clients) return unknown;
  state.client ??= state.clients.resolve(request);
  return state.client;
}

/**
 * Whether the request reached us (or the first trusted proxy) over TLS, as clientOf(request).https says,
 * without resolving the client when no trusted proxy could have said otherwise.
 */
export function overTls(request: Request): boolean {
  const state = stateOf(request);
  if (state?.clients === undefined || !state.clients.proxies || !request.headers.has("x-forwarded-proto"))
    return request.url.startsWith("https:");
  return clientOf(request).https;
}

/**
 * Attaches the client resolver to each request, for rate limits, HSTS and the audit log. `server` is the
 * listening Bun server, null in-process.
 * `peerAddress` replaces Bun's socket address only in tests; production never reads a header for it.
 */
export const clientPlugin = (
  ctx: AppContext,
  server: () => Server | null,
  peerAddress: PeerAddress = defaultPeer,
) => {
  const isTrusted = trustedProxies(ctx.config.TRUSTED_PROXIES);
  const resolver: ClientResolver = {
    proxies: isTrusted !== trustsNone,
    resolve: (request) =>
      resolveClient(
        peerAddress(request, server()),
        request.headers,
        isTrusted,
        request.url.startsWith("https:"),
      ),
  };
  // The server comes from createApp, not from the hook's context: a hook naming `server` makes Elysia
  // redefine a getter on every request's context.
  return new Elysia({ name: "quire/client" }).onRequest(({ request }) => {
    const state = stateOf(request);
    if (state) state.clients = resolver;
  });
};
