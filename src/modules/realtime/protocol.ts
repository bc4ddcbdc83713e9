/**
 * The realtime wire protocol: JSON text frames, one message per frame. The same server messages travel over
 * SSE as `data:` lines (with `id:` = the sequence number).
 *
 * Client → server:
 *   {"op":"subscribe","topic":T}  {"op":"subscribe","topic":T,"since":<seq>}
 *   {"op":"unsubscribe","topic":T}  {"op":"ping"}
 * Server → client:
 *   {"type":"subscribed","topic":T,"seq":<current position>}
 *   {"type":"event","topic":T,"seq":<n>,"event":<name>,"data":{...}}
 *   {"type":"pong"}  {"type":"reset","topic":T}
 *   {"type":"error","topic"?:T,"code":<string>,"message":<string>}
 */
import type { MessageTemplate } from "../../lib/topic-history.ts";

/** WebSocket close codes the server uses (documented in the README and the OpenAPI description). */
export const CloseCode = {
  /** Server shutting down: reconnect (elsewhere) and resume with `since`. */
  goingAway: 1001,
  /** Policy: message rate abused, or a connection limit reached between upgrade and open. */
  policy: 1008,
  /** A client message larger than REALTIME_MAX_MESSAGE_BYTES (sent by Bun itself). */
  tooBig: 1009,
  /** The server failed handling a message (the database was unreachable, say): reconnect and resume. */
  internal: 1011,
  /** The session ended (logout, password change, suspension) or the access token expired. */
  sessionEnded: 4001,
  /** Nothing received (not even a pong) for REALTIME_IDLE_TIMEOUT_SECONDS. */
  idle: 4002,
  /** Slow consumer: more than REALTIME_SEND_BUFFER_BYTES queued. Resume with `since`. */
  slowConsumer: 4008,
} as const;

export type ErrorCode =
  | "bad_request"
  | "invalid_topic"
  | "not_found"
  | "unauthorized"
  | "forbidden"
  | "already_subscribed"
  | "not_subscribed"
  | "too_many_subscriptions"
  | "rate_limited";

export type ClientMessage =
  | { op: "subscribe"; topic: string; since?: number }
  | { op: "unsubscribe"; topic: string }
  | { op: "ping" };

export interface ProtocolError {
  code: ErrorCode;
  message: string;
  topic?: string;
}

export const MAX_TOPIC_LENGTH = 300;

const isSeq = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/**
 * Check a client message. Elysia has already JSON-parsed text that looks like an object; anything else
 * (binary, plain text, broken JSON) arrives here as something other than an object.
 */
export function parseClientMessage(raw: unknown): ClientMessage | ProtocolError {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw) || raw instanceof Uint8Array)
    return { code: "bad_request", message: "messages are JSON objects with an `op`" };
  const m = raw as Record<string, unknown>;
  if (m.op === "ping") return { op: "ping" };
  if (m.op !== "subscribe" && m.op !== "unsubscribe")
    return { code: "bad_request", message: "`op` must be subscribe, unsubscribe or ping" };
  if (typeof m.topic !== "string" || m.topic.length === 0 || m.topic.length > MAX_TOPIC_LENGTH)
    return {
      code: "invalid_topic",
      message: `\`topic\` must be a string of 1 to ${MAX_TOPIC_LENGTH} characters`,
    };
  if (m.op === "unsubscribe") return { op: "unsubscribe", topic: m.topic };
  if (m.since === undefined) return { op: "subscribe", topic: m.topic };
  if (!isSeq(m.since))
    return { code: "bad_request", topic: m.topic, message: "`since` must be a non-negative integer" };
  return { op: "subscribe", topic: m.topic, since: m.since };
}

export const isProtocolError = (v: ClientMessage | ProtocolError | object): v is ProtocolError => "code" in v;

export const subscribedMessage = (topic: string, seq: number) =>
  JSON.stringify({ type: "subscribed", topic, seq });
export const resetMessage = (topic: string) => JSON.stringify({ type: "reset", topic });
export const pongMessage = JSON.stringify({ type: "pong" });
export const errorMessage = (e: ProtocolError) =>
  JSON.stringify({
    type: "error",
    ...(e.topic !== undefined && { topic: e.topic }),
    code: e.code,
    message: e.message,
  });
/**
 * An event message around its sequence number, which the topic log allocates: the same text as
 * `JSON.stringify({ type: "event", topic, seq, event, data })`.
 */
export const eventTemplate = (topic: string, event: string, data: unknown): MessageTemplate => ({
  before: `{"type":"event","topic":${JSON.stringify(topic)},"seq":`,
  after: `,"event":${JSON.stringify(event)},"data":${JSON.stringify(data)}}`,
});
export const eventMessage = (topic: string, seq: number, event: string, data: unknown) => {
  const t = eventTemplate(topic, event, data);
  return t.before + seq + t.after;
};
