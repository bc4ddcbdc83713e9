/**
 * Realtime endpoints: `GET /api/realtime` (WebSocket) and `GET /api/realtime/sse` (Server-Sent Events).
 * Admission (token, origin, flag, limits) is in admission.ts, topics and their authorization in topics.ts,
 * the hub (publishing, resume, backpressure, revocation) in hub.ts. The protocol is documented in
 * docs.ts, which is also what the OpenAPI description shows.
 */
import type { ServerWebSocket } from "bun";
import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { type Authenticate, authPlugin } from "../../http/auth.ts";
import { urlOf } from "../../http/url.ts";
import { type Admission, admit, offeredProtocols, PROTOCOL, stillSignedIn, tokenOf } from "./admission.ts";
import { sseDoc, sseResponses, unavailable, websocketDoc, websocketResponses } from "./docs.ts";
import { CloseCode } from "./protocol.ts";
import { parseLastEventId, parseSseTopics, SseConn } from "./sse.ts";
import { handleMessage, WsConn } from "./ws.ts";

type RawSocket = ServerWebSocket<unknown>;

/** Bun's server-wide WebSocket settings (passed to the root Elysia instance by createApp). */
export const realtimeWebsocketOptions = (config: AppContext["config"]) => ({
  maxPayloadLength: config.REALTIME_MAX_MESSAGE_BYTES,
  // Past this Bun drops a socket's messages; the hub closes such a socket (4008) before it loses one.
  backpressureLimit: config.REALTIME_SEND_BUFFER_BYTES,
  closeOnBackpressureLimit: false,
  // Liveness is the hub's (ws.ts): Bun's own timer would only add a second, coarser one.
  idleTimeout: 0,
  sendPings: false,
  perMessageDeflate: false,
  publishToSelf: false,
});

export const realtimeRoutes = (ctx: AppContext) => {
  const hub = ctx.realtime;
  const config = ctx.config;
  const idleMs = config.REALTIME_IDLE_TIMEOUT_SECONDS * 1000;
  const wsLimits = {
    sendBufferBytes: config.REALTIME_SEND_BUFFER_BYTES,
    idleMs,
    perSecond: config.REALTIME_MESSAGES_PER_SECOND,
    burst: config.REALTIME_MESSAGE_BURST,
  };
  /** Decided at upgrade, picked up when the socket opens. */
  const admitted = new WeakMap<Request, Admission>();
  const conns = new WeakMap<RawSocket, WsConn>();

  return (
    new Elysia({ name: "quire/realtime", tags: ["Realtime"] })
      .use(authPlugin(ctx))
      .ws("/api/realtime", {
        // OpenAPI has no WebSocket operation: the GET below carries the documentation.
        detail: { hide: true },
        // `upgrade`, not `beforeHandle`: Elysia runs a WebSocket route's beforeHandle twice (lifecycle and
        // handler), which would authenticate twice and count a rate-limited request twice.
        async upgrade(context) {
          const { request, server, set } = context;
          const { authenticate } = context as unknown as { authenticate: Authenticate };
          // Bun echoes the first offered subprotocol when the server picks none: that could be the token.
          const offered = offeredProtocols(request);
          if (offered.length > 0 && !offered.includes(PROTOCOL))
            throw new AppError(400, { "Sec-WebSocket-Protocol": [`must include "${PROTOCOL}"`] });
          if (offered.length > 0) set.headers["sec-websocket-protocol"] = PROTOCOL;
          if (server) hub.attach(server);
          const token = tokenOf(request, urlOf(request), true);
          const admission = await admit(ctx, hub, request, server, token, (t) => authenticate(t, set));
          admitted.set(request, admission);
        },
        open(ws) {
          const raw = ws.raw as RawSocket;
          const admission = admitted.get(ws.data.request);
          if (!admission) return raw.close(CloseCode.policy, "not admitted");
          if (!hub.accepting) return raw.close(CloseCode.goingAway, "server shutting down");
          const conn = new WsConn(hub, raw, admission.ip, admission.viewer, wsLimits);
          conns.set(raw, conn);
          const opened = (registered: boolean) => {
            if (!registered) return raw.close(CloseCode.policy, "too many connections");
            void stillSignedIn(ctx, admission).then(
              (live) => live || conn.close(CloseCode.sessionEnded, "session ended"),
              () => conn.close(CloseCode.internal, "session check failed"),
            );
          };
          // A cluster counts the connection over every node: the answer may take a round trip, and the
          // client's first messages are handled after it (handle() runs them in order).
          const registered = hub.register(conn);
          if (registered instanceof Promise) conn.handle(async () => opened(await registered));
          else opened(registered);
        },
        message(ws, message) {
          const conn = conns.get(ws.raw as RawSocket);
          if (conn) conn.handle(() => handleMessage(ctx, hub, conn, message));
        },
        pong(ws) {
          // Elysia hands ping/pong handlers Bun's socket itself, not its wrapper.
          const raw = ((ws as unknown as { raw?: RawSocket }).raw ?? ws) as unknown as RawSocket;
          conns.get(raw)?.seen();
        },
        close(ws) {
          const conn = conns.get(ws.raw as RawSocket);
          if (conn) hub.unregister(conn);
        },
      })
      // Only a request that is not an upgrade gets here.
      .get(
        "/api/realtime",
        () => {
          throw new AppError(426, { request: ["must be a WebSocket upgrade"] }, { upgrade: "websocket" });
        },
        {
          detail: websocketDoc,
          response: websocketResponses,
        },
      )
      .get(
        "/api/realtime/sse",
        async ({ request, server, authenticate, set }) => {
          const url = urlOf(request);
          if (server) hub.attach(server);
          const token = tokenOf(request, url, false);
          const admission = await admit(ctx, hub, request, server, token, (t) => authenticate(t, set));
          const topics = await parseSseTopics(ctx, url, admission.viewer);
          const since = parseLastEventId(request, url);
          const limits = { sendBufferBytes: config.REALTIME_SEND_BUFFER_BYTES, idleMs };
          // Once ended, the request's idle timeout applies again: a client that stopped reading lets go.
          const onEnd = () => server?.timeout(request, config.REQUEST_IDLE_TIMEOUT_SECONDS);
          const conn = new SseConn(hub, admission.ip, admission.viewer, limits, onEnd);
          if (!(await hub.register(conn)))
            throw (await hub.checkAdmission(admission.ip, admission.viewer?.id)) ?? unavailable();
          if (!(await stillSignedIn(ctx, admission))) {
            hub.unregister(conn);
            throw new AppError(401, { token: ["is invalid"] });
          }
          await hub.subscribe(
            conn,
            topics.map((topic) => ({ topic, since })),
          );
          // The stream outlives Bun's idle timeout for requests; the hub's heartbeats keep proxies content.
          server?.timeout(request, 0);
          request.signal.addEventListener("abort", () => conn.close(CloseCode.goingAway, "client went away"));
          return new Response(conn.stream, {
            headers: {
              "content-type": "text/event-stream; charset=utf-8",
              "cache-control": "no-cache, no-transform",
              "x-accel-buffering": "no",
            },
          });
        },
        {
          detail: sseDoc,
          response: sseResponses,
        },
      )
  );
};
