/**
 * The client of every request, resolved once before anything else runs (src/lib/client-address.ts has the
 * trust model: TRUSTED_PROXIES, X-Forwarded-For walked from the right, IPv6 keyed by its /64).
 */
import { Elysia } from "elysia";
import type { AppContext } from "../context.ts";
import { type ClientInfo, resolveClient, trustedProxies } from "../lib/client-address.ts";

export type { ClientInfo };

/** The part of Bun's server this needs (Elysia's `server` is null for in-process `app.handle`). */
interface Server {
  requestIP(request: Request): { address: string } | null;
}

const unknown: ClientInfo = Object.freeze({ key: "unknown", https: false });

/** Resolves the client address of a request (test apps have no server, so tests inject one). */
export type PeerAddress = (request: Request, server: Server | null) => string | undefined;

const defaultPeer: PeerAddress = (request, server) => server?.requestIP(request)?.address;

/**
 * The client of each request in flight. Request-scoped, not shared state: a Request belongs to one app, and
 * its entry goes with it (WeakMap).
 */
const clients = new WeakMap<Request, ClientInfo>();

/** The client of a request, as resolved by clientPlugin (key "unknown" for a request it did not see). */
export function clientOf(request: Request): ClientInfo {
  return clients.get(request) ?? unknown;
}

/**
 * Resolves the client once per request, before anything else runs, for rate limits, HSTS and the audit log.
 * `peerAddress` replaces Bun's socket address only in tests; production never reads a header for it.
 */
export const clientPlugin = (ctx: AppContext, peerAddress: PeerAddress = defaultPeer) => {
  const isTrusted = trustedProxies(ctx.config.TRUSTED_PROXIES);
  return new Elysia({ name: "quire/client" }).onRequest(({ request, server }) => {
    const tls = request.url.startsWith("https:");
    clients.set(request, resolveClient(peerAddress(request, server), request.headers, isTrusted, tls));
  });
};
