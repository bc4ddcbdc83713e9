/**
 * Delivering one webhook message: a `webhook.deliver` job. Security and resilience model:
 * - The URL is vetted again at every attempt (src/lib/ssrf.ts): DNS may have changed since registration.
 *   The request goes to the vetted address (pinned), redirects are not followed, the response body is read
 *   up to RESPONSE_LIMIT_BYTES and the whole attempt is bounded by WEBHOOK_TIMEOUT_MS.
 * - Each endpoint has a circuit breaker (cockatiel): after WEBHOOK_BREAKER_THRESHOLD consecutive failures it
 *   opens, and its deliveries are postponed without a request (and without spending an attempt) until a trial
 *   delivery is allowed after WEBHOOK_BREAKER_HALF_OPEN_MS. A dead endpoint costs no worker time.
 * - Any non-2xx answer is a failure; the queue retries with backoff (10 s × 4ⁿ, jitter, capped at 12 h) up to
 *   WEBHOOK_MAX_ATTEMPTS. Every attempt, including postponed ones, is logged in webhook_deliveries.
 */
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
} from "cockatiel";
import type { AppContext } from "../../context.ts";
import { type Job, PermanentJobError, RetryLaterError } from "../../lib/queue.ts";
import { pinnedRequest, SsrfError, vetUrl } from "../../lib/ssrf.ts";
import type { DeliveryPayload } from "./events.ts";
import { sign } from "./signing.ts";

export const RESPONSE_LIMIT_BYTES = 64 * 1024;
const USER_AGENT = "Quire-Webhooks/1";

/**
 * The circuit breakers of this process, by endpoint id (a component of the context: two apps in one
 * process never share one). Per node in a cluster: each node learns an endpoint is down on its own, after
 * WEBHOOK_BREAKER_THRESHOLD failures of its own, which bounds the wasted attempts by that times the nodes.
 */
export class WebhookBreakers {
  readonly #breakers = new Map<number, CircuitBreakerPolicy>();

  constructor(
    private readonly config: Pick<
      AppContext["config"],
      "WEBHOOK_BREAKER_HALF_OPEN_MS" | "WEBHOOK_BREAKER_THRESHOLD"
    >,
  ) {}

  of(webhookId: number): CircuitBreakerPolicy {
    let breaker = this.#breakers.get(webhookId);
    if (!breaker) {
      breaker = circuitBreaker(handleAll, {
        halfOpenAfter: this.config.WEBHOOK_BREAKER_HALF_OPEN_MS,
        breaker: new ConsecutiveBreaker(this.config.WEBHOOK_BREAKER_THRESHOLD),
      });
      this.#breakers.set(webhookId, breaker);
    }
    return breaker;
  }

  forget(webhookId: number): void {
    this.#breakers.delete(webhookId);
  }
}

class DeliveryError extends Error {
  override name = "DeliveryError";
  constructor(
    message: string,
    readonly statusCode: number | null = null,
  ) {
    super(message);
  }
}

interface Attempt {
  statusCode: number | null;
  ok: boolean;
  error: string | null;
  durationMs: number;
}

function record(ctx: AppContext, job: Job<DeliveryPayload>, attempt: Attempt): Promise<void> {
  return ctx.store.write((tx) =>
    tx.webhooks.recordDelivery({
      webhookId: job.payload.webhookId,
      messageId: job.payload.messageId,
      event: job.payload.event,
      attempt: job.attempt,
      statusCode: attempt.statusCode,
      ok: attempt.ok,
      error: attempt.error,
      durationMs: attempt.durationMs,
      createdAt: ctx.clock.now(),
    }),
  );
}

/** Read at most `limit` bytes of the body, then drop the rest: a receiver cannot make us buffer gigabytes. */
async function drainCapped(res: Response, limit: number): Promise<void> {
  if (!res.body) return;
  const reader = res.body.getReader();
  let read = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
      if (read > limit) return;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

async function send(
  ctx: AppContext,
  url: string,
  secret: string,
  job: Job<DeliveryPayload>,
): Promise<number> {
  const vetted = await vetUrl(url, { allowPrivate: ctx.config.WEBHOOK_ALLOW_PRIVATE_NETWORKS });
  const target = pinnedRequest(vetted);
  const timestamp = Math.floor(ctx.clock.now() / 1000);
  const { messageId, body } = job.payload;
  const res = await fetch(target.url, {
    method: "POST",
    headers: {
      host: target.host,
      "content-type": "application/json",
      "user-agent": USER_AGENT,
      "webhook-id": messageId,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": sign(secret, messageId, timestamp, body),
    },
    body,
    redirect: "manual",
    signal: AbortSignal.any([job.signal, AbortSignal.timeout(ctx.config.WEBHOOK_TIMEOUT_MS)]),
    ...(target.serverName && { tls: { serverName: target.serverName } }),
  });
  await drainCapped(res, RESPONSE_LIMIT_BYTES);
  if (res.status >= 300 && res.status < 400) throw new DeliveryError("redirect not followed", res.status);
  if (res.status < 200 || res.status >= 300) throw new DeliveryError(`HTTP ${res.status}`, res.status);
  return res.status;
}

export async function deliverWebhook(ctx: AppContext, job: Job<DeliveryPayload>): Promise<void> {
  const hook = await ctx.store.read.webhooks.byId(job.payload.webhookId);
  // The endpoint was deleted or disabled after the event: nothing is owed to it.
  if (!hook?.enabled) return;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const statusCode = await ctx.breakers
      .of(job.payload.webhookId)
      .execute(() => send(ctx, hook.url, hook.secret, job));
    await record(ctx, job, { statusCode, ok: true, error: null, durationMs: elapsed() });
  } catch (err) {
    if (err instanceof BrokenCircuitError) {
      await record(ctx, job, { statusCode: null, ok: false, error: "circuit open: not sent", durationMs: 0 });
      // Spread the postponed deliveries so they do not all come back in the same instant.
      const delay = ctx.config.WEBHOOK_BREAKER_HALF_OPEN_MS * (1 + Math.random() * 0.2);
      throw new RetryLaterError(Math.round(delay), "circuit open");
    }
    const message = err instanceof Error ? describe(err) : String(err);
    const statusCode = err instanceof DeliveryError ? err.statusCode : null;
    await record(ctx, job, { statusCode, ok: false, error: message, durationMs: elapsed() });
    if (err instanceof SsrfError) throw new PermanentJobError(`url ${err.message}`);
    throw new Error(message);
  }
}

/** A short, secret-free reason: fetch errors can be nested and verbose. */
function describe(err: Error): string {
  if (err.name === "TimeoutError") return "timed out";
  if (err.name === "AbortError") return "aborted (shutting down)";
  return err.message.slice(0, 300);
}
