/**
 * OpenTelemetry traces, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set. Then the OpenTelemetry SDK and
 * @elysiajs/opentelemetry are loaded with dynamic imports (so an untraced server never evaluates them) and
 * every request becomes a server span with child spans per lifecycle phase, exported over OTLP/HTTP
 * (protobuf) to `<endpoint>/v1/traces` in batches. Incoming `traceparent` headers are honoured.
 *
 * We start the SDK ourselves (rather than letting the plugin do it) to hold its handle: shutdown flushes the
 * last batch. If the modules cannot be loaded (a build that left them out), the server runs untraced and
 * says so in a warning: tracing is an aid, never a reason not to serve.
 */
import type { AnyElysia } from "elysia";
import type { Config } from "../config.ts";
import type { Logger } from "../lib/logger.ts";
import { requestPath } from "./url.ts";

export interface Telemetry {
  /** Mount first on the app (its wrap and trace hooks must see every request); undefined when off. */
  plugin?: AnyElysia;
  /** Flush pending spans and stop the SDK. */
  shutdown(): Promise<void>;
}

const UNTRACED = /^\/(?:health\/(?:live|ready)|metrics)$/;

const off: Telemetry = { shutdown: async () => {} };

export async function loadTelemetry(config: Readonly<Config>, log: Logger): Promise<Telemetry> {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (endpoint === "") return off;
  try {
    const [{ NodeSDK }, { OTLPTraceExporter }, { opentelemetry }] = await Promise.all([
      import("@opentelemetry/sdk-node"),
      import("@opentelemetry/exporter-trace-otlp-proto"),
      import("@elysiajs/opentelemetry"),
    ]);
    const url = `${endpoint.replace(/\/+$/, "")}/v1/traces`;
    const sdk = new NodeSDK({
      serviceName: config.OTEL_SERVICE_NAME,
      traceExporter: new OTLPTraceExporter({ url }),
      // No auto-instrumentation: it patches Node modules by require hooks, which a bundle does not use.
      instrumentations: [],
    });
    sdk.start();
    log.info({ url, service: config.OTEL_SERVICE_NAME }, "tracing enabled (OTLP/HTTP)");
    return {
      plugin: opentelemetry({
        serviceName: config.OTEL_SERVICE_NAME,
        // Probes and scrapes every few seconds would drown the traces that matter.
        checkIfShouldTrace: (request) => !UNTRACED.test(requestPath(request)),
      }) as unknown as AnyElysia,
      shutdown: async () => {
        try {
          await sdk.shutdown();
        } catch (err) {
          log.warn({ err }, "tracing: flushing the last spans failed");
        }
      },
    };
  } catch (err) {
    log.warn(
      { err },
      "tracing requested (OTEL_EXPORTER_OTLP_ENDPOINT) but OpenTelemetry could not be loaded: running untraced",
    );
    return off;
  }
}
