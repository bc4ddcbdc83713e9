/**
 * Server-Sent Events fallback: the same topics, messages and limits as the WebSocket, one way. Each message
 * is `id: <seq>` (events and `subscribed`) plus `data: <the WebSocket JSON>`. Sequence numbers come from one
 * counter over all topics and a stream is always written in increasing order, so the last id a client saw
 * is a position in every topic it reads: `Last-Event-ID` resumes them all at once.
 *
 * Backpressure: the stream's queue is measured in bytes against REALTIME_SEND_BUFFER_BYTES; past it the
 * stream is aborted (the SSE form of 4008) and the client's EventSource reconnects with Last-Event-ID.
 */
import type { AppContext } from "../../context.ts";
import { AppError } from "../../errors.ts";
import type { Conn, ConnViewer } from "./connection.ts";
import type { RealtimeHub } from "./hub.ts";
import { CloseCode, MAX_TOPIC_LENGTH } from "./protocol.ts";
import { isRefusal, resolveTopic, type Topic } from "./topics.ts";

const encoder = new TextEncoder();

export class SseConn implements Conn {
  readonly kind = "sse";
  readonly topics = new Set<string>();
  feedAuthors: Set<number> | undefined;
  readonly stream: ReadableStream<Uint8Array>;
  /**
   * Our queue, handed to Bun whole at each pull. Bun pulls only while the socket takes data, so what stays
   * here is exactly what the client is behind by, beyond the OS buffers (as getBufferedAmount() for WS).
   */
  #queue: Uint8Array[] = [];
  #queued = 0;
  /** Bun is waiting for data: whatever is queued now leaves at once, however much (a replay burst). */
  #demand = true;
  #wake: (() => void) | undefined;
  #closed = false;
  #lastWrite = performance.now();

  constructor(
    private readonly hub: RealtimeHub,
    readonly ip: string,
    readonly viewer: ConnViewer | undefined,
    private readonly limits: { sendBufferBytes: number; idleMs: number },
    /** Called once when the stream ends (the route restores the request's idle timeout). */
    private readonly onEnd: () => void = () => {},
  ) {
    this.stream = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => {
          if (this.#feed(controller)) return;
          this.#demand = true;
          return new Promise<void>((resolve) => {
            this.#wake = resolve;
          }).then(() => void this.#feed(controller));
        },
        // The client went away.
        cancel: () => this.#finish(),
      },
      { highWaterMark: 0 },
    );
  }

  /** Hand Bun everything queued, or end the stream once closed; false when there was nothing to do. */
  #feed(controller: ReadableStreamDefaultController<Uint8Array>): boolean {
    if (this.#queue.length > 0) {
      const chunk = this.#queue.length === 1 ? this.#queue[0]! : Buffer.concat(this.#queue);
      this.#queue = [];
      this.#queued = 0;
      this.#demand = false;
      controller.enqueue(chunk);
      return true;
    }
    if (!this.#closed) return false;
    controller.close();
    return true;
  }

  #write(text: string): boolean {
    if (this.#closed) return false;
    const bytes = encoder.encode(text);
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    this.#lastWrite = performance.now();
    if (!this.#demand && this.#queued > this.limits.sendBufferBytes) {
      this.hub.tooSlow(this);
      return false;
    }
    this.#wakeUp();
    return true;
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  send(message: string, seq?: number): boolean {
    return this.#write(`${seq === undefined ? "" : `id: ${seq}\n`}data: ${message}\n\n`);
  }

  subscribeKey(): void {} // the hub writes to SSE subscribers itself
  unsubscribeKey(): void {}

  close(code: number, reason: string): void {
    if (this.#closed) return;
    if (code === CloseCode.slowConsumer) {
      // Drop the backlog: the slow client would take ages to read it. It resumes with Last-Event-ID.
      this.#queue = [];
      this.#queued = 0;
    } else this.#write(`: closed ${code} ${reason}\n\n`);
    this.#closed = true;
    this.#wakeUp();
    this.#finish();
  }

  bufferedAmount(): number {
    return this.#queued;
  }

  /** A comment line now and then keeps proxies from timing the stream out. */
  tick(now: number): void {
    if (now - this.#lastWrite >= this.limits.idleMs / 2) this.#write(": keep-alive\n\n");
  }

  #finish(): void {
    this.#closed = true;
    if (this.hub.unregister(this)) this.onEnd();
  }
}

/** `topics=a,b` (and any repeated `topic=` for names with a comma) → resolved topics, or a 4xx. */
export async function parseSseTopics(
  ctx: AppContext,
  url: URL,
  viewer: { id: number; role: ConnViewer["role"] } | undefined,
): Promise<Topic[]> {
  const names = new Set([
    ...url.searchParams
      .getAll("topics")
      .flatMap((list) => list.split(","))
      .map((n) => n.trim())
      .filter(Boolean),
    ...url.searchParams.getAll("topic").filter(Boolean),
  ]);
  if (names.size === 0) throw new AppError(422, { topics: ["can't be blank"] });
  const max = ctx.config.REALTIME_MAX_SUBSCRIPTIONS;
  if (names.size > max) throw new AppError(422, { topics: [`has too many items (maximum is ${max})`] });
  if ([...names].some((n) => n.length > MAX_TOPIC_LENGTH)) {
    throw new AppError(422, { topics: [`has a topic longer than ${MAX_TOPIC_LENGTH} characters`] });
  }
  const topics = new Map<string, Topic>();
  for (const name of names) {
    const topic = await resolveTopic(ctx, name, viewer);
    if (isRefusal(topic)) {
      if (topic.status === 401) throw new AppError(401, { token: ["is missing"] });
      // The field is fixed: a topic name is client input, never echoed as a key.
      throw new AppError(topic.status, { topics: [topic.message] });
    }
    topics.set(topic.name, topic);
  }
  return [...topics.values()];
}

/** `Last-Event-ID` (or `lastEventId=` for clients that cannot set headers): a position, or undefined. */
export function parseLastEventId(request: Request, url: URL): number | undefined {
  const raw = request.headers.get("last-event-id") ?? url.searchParams.get("lastEventId");
  if (raw === null || raw === "") return undefined;
  if (!/^\d{1,16}$/.test(raw)) throw new AppError(422, { "Last-Event-ID": ["is invalid"] });
  return Number(raw);
}
