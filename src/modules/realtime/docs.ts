/** The realtime protocol as the OpenAPI document describes it (kept beside the code that implements it). */
import { t } from "elysia";
import { AppError } from "../../errors.ts";
import { documented, security } from "../../http/docs.ts";
import { errorDoc } from "../../http/model.ts";
import { articleListItemExample } from "../articles/model.ts";

export const unavailable = () => new AppError(503, { realtime: ["is at capacity"] }, { "retry-after": "5" });

/** Refusals before the upgrade or the stream, shared by both endpoints (admission.ts, hub.ts). */
const refusals = {
  403: errorDoc("A browser Origin outside CORS_ORIGINS (when it is set and not `*`)", {
    origin: ["is not allowed"],
  }),
  429: errorDoc(
    "Too many realtime connections from this address (REALTIME_MAX_CONNECTIONS_PER_IP) or for this user (REALTIME_MAX_CONNECTIONS_PER_USER)",
    { realtime: ["too many connections from this address"] },
    { realtime: ["too many connections for this user"] },
  ),
  503: errorDoc(
    "Realtime is switched off for this viewer (feature flag `realtime`), at capacity (REALTIME_MAX_CONNECTIONS) or shutting down; see `Retry-After`",
    { realtime: ["is disabled"] },
    { realtime: ["is at capacity"] },
    { realtime: ["is shutting down"] },
  ),
};

/** One SSE message as the stream writes it. */
const frame = (id: number, message: unknown) => `id: ${id}\ndata: ${JSON.stringify(message)}\n\n`;

const tokenParameter = {
  name: "token",
  in: "query" as const,
  required: false,
  description:
    "An access token, for clients that cannot set `Authorization` (browsers' WebSocket and EventSource)",
  schema: { type: "string" as const, maxLength: 4096 },
};

export const websocketResponses = {
  101: t.Void({
    description: "Switching Protocols: the WebSocket is open (the protocol is described above)",
  }),
  400: errorDoc("Subprotocols were offered without `quire`", {
    "Sec-WebSocket-Protocol": ['must include "quire"'],
  }),
  ...refusals,
  426: errorDoc("Not a WebSocket upgrade request (use a WebSocket client, or the SSE endpoint)", {
    request: ["must be a WebSocket upgrade"],
  }),
};

export const sseResponses = {
  200: documented(
    t.String({
      description: "An event stream that stays open: one event per message, `id` usable as Last-Event-ID",
      examples: [
        frame(41, { type: "subscribed", topic: "articles", seq: 41 }) +
          frame(42, {
            type: "event",
            topic: "articles",
            seq: 42,
            event: "article.created",
            data: { article: articleListItemExample },
          }),
      ],
    }),
    { contentType: "text/event-stream" },
  ),
  401: errorDoc("The `feed` topic without a token", { token: ["is missing"] }),
  ...refusals,
  404: errorDoc(
    "A topic names an article or user that does not exist",
    { topics: ["no article has this slug"] },
    { topics: ["no user has this username"] },
  ),
  422: errorDoc(
    "No topic, too many topics, an unknown kind of topic, or a malformed Last-Event-ID",
    { topics: ["can't be blank"] },
    { topics: ["topics are articles, articles:<slug>, profiles:<username>, tags:<tag> and feed"] },
    { "Last-Event-ID": ["is invalid"] },
  ),
};

const topics = `**Topics** (\`data\` uses the REST shapes: articles as in lists, without \`body\`; never emails or tokens; \`favorited\`/\`following\` are from the anonymous viewpoint):
- \`articles\`: \`article.created\` for every new article.
- \`articles:<slug>\`: \`article.updated\` (also sent on the old slug when the title changes the slug: resubscribe to \`data.article.slug\`), \`article.deleted\`, \`article.favorited\` / \`article.unfavorited\` (with the new \`favoritesCount\`), \`comment.created\`, \`comment.deleted\` (\`data.comment\`).
- \`profiles:<username>\`: \`article.created\` by that author.
- \`tags:<tag>\`: \`article.created\` with that tag.
- \`feed\` (token required): \`article.created\` by authors the viewer follows (follows made or undone while connected apply at once; here \`author.following\` is true).

**Sequence numbers**: every event has a \`seq\` that only grows within its topic (one counter serves all topics, so they are not contiguous). \`subscribed.seq\` is the current position. Keep the last \`seq\` you saw per topic and resubscribe with \`since\`: you get the missed events in order, then \`subscribed\`, then live events, with no gap and no duplicate. If they are no longer kept (history is bounded by REALTIME_HISTORY_SIZE per topic, REALTIME_HISTORY_TTL_SECONDS and REALTIME_HISTORY_MAX_BYTES, and does not survive a restart) you get \`{"type":"reset","topic":T}\` first: refetch over REST.`;

export const websocketDoc = {
  summary: "Live updates (WebSocket)",
  security: security.optional,
  parameters: [tokenParameter],
  description: `**A WebSocket endpoint** (\`ws://…/api/realtime\`): a request that is not an upgrade gets 426; a successful upgrade is 101. JSON text frames. **Authentication** at upgrade: \`?token=<access token>\`, \`Authorization: Token <token>\`, or the subprotocol list \`["quire", "token.<access token>"]\` (the server selects \`quire\`; when subprotocols are offered, \`quire\` must be one of them). No token: anonymous (public topics only). An invalid token: 401. When CORS_ORIGINS is set (not \`*\`), a browser Origin outside it gets 403. Refusals before the upgrade use the error envelope: 401, 403, 429 (connections per IP / per user), 503 (flag \`realtime\` off, or at capacity).

**Client → server**: \`{"op":"subscribe","topic":T}\` (optionally \`"since":<seq>\`), \`{"op":"unsubscribe","topic":T}\`, \`{"op":"ping"}\`.

**Server → client**: \`{"type":"subscribed","topic":T,"seq":<current seq>}\`, \`{"type":"event","topic":T,"seq":<n>,"event":<name>,"data":{...}}\`, \`{"type":"pong"}\`, \`{"type":"reset","topic":T}\`, \`{"type":"error","topic"?:T,"code":<string>,"message":<string>}\` with code bad_request, invalid_topic, not_found, unauthorized (feed without a token), forbidden, already_subscribed, not_subscribed, too_many_subscriptions or rate_limited.

${topics}

**Limits and close codes**: 1001 server shutting down (reconnect and resume); 1008 message rate abused (a whole further burst sent while \`rate_limited\`) or a connection limit reached; 1009 a message over REALTIME_MAX_MESSAGE_BYTES; 4001 session ended (logout, password change, suspension) or token expired: reconnect with a fresh token; 4002 idle: nothing received for REALTIME_IDLE_TIMEOUT_SECONDS (the server pings after half of it; pongs count); 4008 slow consumer: more than REALTIME_SEND_BUFFER_BYTES queued. A client that stopped reading may see 1006 instead of 4008, since the close frame waits behind what it has not read. In every case: reconnect with backoff and resubscribe with \`since\`.`,
};

export const sseDoc = {
  summary: "Live updates (Server-Sent Events)",
  security: security.optional,
  parameters: [
    {
      name: "topics",
      in: "query" as const,
      required: false,
      description: "Comma-separated topic names (at least one topic, here or in `topic`)",
      schema: { type: "string" as const, examples: ["articles,tags:dragons"] },
    },
    {
      name: "topic",
      in: "query" as const,
      required: false,
      description: "One topic name, repeatable: for a name that contains a comma",
      schema: { type: "string" as const },
    },
    tokenParameter,
    {
      name: "lastEventId",
      in: "query" as const,
      required: false,
      description: "Resume after this event id, for clients that cannot send `Last-Event-ID`",
      schema: { type: "string" as const, pattern: "^[0-9]{1,16}$" },
    },
    {
      name: "Last-Event-ID",
      in: "header" as const,
      required: false,
      description: "Resume after this event id (EventSource sends it itself when it reconnects)",
      schema: { type: "string" as const, pattern: "^[0-9]{1,16}$" },
    },
  ],
  description: `For clients that cannot use the WebSocket: \`GET /api/realtime/sse?topics=articles,tags:bun\` (a name containing a comma goes in its own \`topic=\` parameter). Same topics, authorization and connection limits; the token comes from \`Authorization\` or \`?token=\`. Every message is \`data: <the WebSocket JSON>\`; events and \`subscribed\` carry \`id: <seq>\`. All topics share one sequence, so the last id is a position in all of them: on reconnect, \`Last-Event-ID\` (sent by EventSource itself; or \`?lastEventId=\`) replays what was missed in order, or sends \`reset\` for a topic whose missed events are gone. A stream that falls more than REALTIME_SEND_BUFFER_BYTES behind is ended; comment lines keep idle streams alive.

${topics}`,
};
