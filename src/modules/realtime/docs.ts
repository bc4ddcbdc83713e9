/** The realtime protocol as the OpenAPI document describes it (kept beside the code that implements it). */
import { AppError } from "../../errors.ts";
import { ErrorEnvelope } from "../shared/model.ts";

export const unavailableSchema = {
  ...ErrorEnvelope,
  description: "Realtime is switched off (feature flag `realtime`) or at capacity; see Retry-After",
};
export const upgradeRequiredSchema = {
  ...ErrorEnvelope,
  description: "Not a WebSocket upgrade request (use a WebSocket client, or the SSE endpoint)",
};
export const badRequestSchema = {
  ...ErrorEnvelope,
  description: "Subprotocols offered without `quire`",
};
export const unavailable = () => new AppError(503, { realtime: ["is at capacity"] }, { "retry-after": "5" });

const topics = `**Topics** (\`data\` uses the REST shapes: articles as in lists, without \`body\`; never emails or tokens; \`favorited\`/\`following\` are from the anonymous viewpoint):
- \`articles\`: \`article.created\` for every new article.
- \`articles:<slug>\`: \`article.updated\` (also sent on the old slug when the title changes the slug: resubscribe to \`data.article.slug\`), \`article.deleted\`, \`article.favorited\` / \`article.unfavorited\` (with the new \`favoritesCount\`), \`comment.created\`, \`comment.deleted\` (\`data.comment\`).
- \`profiles:<username>\`: \`article.created\` by that author.
- \`tags:<tag>\`: \`article.created\` with that tag.
- \`feed\` (token required): \`article.created\` by authors the viewer follows (follows made or undone while connected apply at once; here \`author.following\` is true).

**Sequence numbers**: every event has a \`seq\` that only grows within its topic (one counter serves all topics, so they are not contiguous). \`subscribed.seq\` is the current position. Keep the last \`seq\` you saw per topic and resubscribe with \`since\`: you get the missed events in order, then \`subscribed\`, then live events, with no gap and no duplicate. If they are no longer kept (history is bounded by REALTIME_HISTORY_SIZE per topic, REALTIME_HISTORY_TTL_SECONDS and REALTIME_HISTORY_MAX_BYTES, and does not survive a restart) you get \`{"type":"reset","topic":T}\` first: refetch over REST.`;

export const websocketDoc = {
  summary: "Live updates (WebSocket)",
  description: `**A WebSocket endpoint** (\`ws://…/api/realtime\`): a request that is not an upgrade gets 426; a successful upgrade is 101. JSON text frames. **Authentication** at upgrade: \`?token=<access token>\`, \`Authorization: Token <token>\`, or the subprotocol list \`["quire", "token.<access token>"]\` (the server selects \`quire\`; when subprotocols are offered, \`quire\` must be one of them). No token: anonymous (public topics only). An invalid token: 401. When CORS_ORIGINS is set (not \`*\`), a browser Origin outside it gets 403. Refusals before the upgrade use the error envelope: 401, 403, 429 (connections per IP / per user), 503 (flag \`realtime\` off, or at capacity).

**Client → server**: \`{"op":"subscribe","topic":T}\` (optionally \`"since":<seq>\`), \`{"op":"unsubscribe","topic":T}\`, \`{"op":"ping"}\`.

**Server → client**: \`{"type":"subscribed","topic":T,"seq":<current seq>}\`, \`{"type":"event","topic":T,"seq":<n>,"event":<name>,"data":{...}}\`, \`{"type":"pong"}\`, \`{"type":"reset","topic":T}\`, \`{"type":"error","topic"?:T,"code":<string>,"message":<string>}\` with code bad_request, invalid_topic, not_found, unauthorized (feed without a token), forbidden, already_subscribed, not_subscribed, too_many_subscriptions or rate_limited.

${topics}

**Limits and close codes**: 1001 server shutting down (reconnect and resume); 1008 message rate abused (a whole further burst sent while \`rate_limited\`) or a connection limit reached; 1009 a message over REALTIME_MAX_MESSAGE_BYTES; 4001 session ended (logout, password change, suspension) or token expired: reconnect with a fresh token; 4002 idle: nothing received for REALTIME_IDLE_TIMEOUT_SECONDS (the server pings after half of it; pongs count); 4008 slow consumer: more than REALTIME_SEND_BUFFER_BYTES queued. A client that stopped reading may see 1006 instead of 4008, since the close frame waits behind what it has not read. In every case: reconnect with backoff and resubscribe with \`since\`.`,
};

export const sseDoc = {
  summary: "Live updates (Server-Sent Events)",
  description: `For clients that cannot use the WebSocket: \`GET /api/realtime/sse?topics=articles,tags:bun\` (a name containing a comma goes in its own \`topic=\` parameter). Same topics, authorization and connection limits; the token comes from \`Authorization\` or \`?token=\`. Every message is \`data: <the WebSocket JSON>\`; events and \`subscribed\` carry \`id: <seq>\`. All topics share one sequence, so the last id is a position in all of them: on reconnect, \`Last-Event-ID\` (sent by EventSource itself; or \`?lastEventId=\`) replays what was missed in order, or sends \`reset\` for a topic whose missed events are gone. A stream that falls more than REALTIME_SEND_BUFFER_BYTES behind is ended; comment lines keep idle streams alive.

${topics}`,
  responses: {
    200: {
      description: "An event stream that stays open",
      content: { "text/event-stream": { schema: { type: "string" as const } } },
    },
  },
};
