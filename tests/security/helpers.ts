/**
 * The test app with a client address: in-process requests have no socket, so this app reads the direct
 * peer from an `x-test-peer` header. Only this test wiring does that (createApp's `peerAddress` option);
 * the production app takes the peer from Bun's socket and never from a header.
 */
import { createApp } from "../../src/app.ts";
import { createTestApp, type RequestOptions, type TestApp, type TestResponse } from "../helpers/app.ts";

export interface PeerRequestOptions extends RequestOptions {
  /** The direct TCP peer this request seems to come from. */
  peer?: string;
}

export interface PeerTestApp extends TestApp {
  request(method: string, path: string, options?: PeerRequestOptions): Promise<TestResponse>;
}

export async function createPeerTestApp(overrides: Record<string, string> = {}): Promise<PeerTestApp> {
  const t = await createTestApp(overrides);
  const app = createApp(t.ctx, { peerAddress: (request) => request.headers.get("x-test-peer") ?? undefined });
  const request = async (method: string, path: string, options: PeerRequestOptions = {}) => {
    const headers = { ...options.headers, ...(options.peer && { "x-test-peer": options.peer }) };
    const res = await app.handle(t.buildRequest(method, path, { ...options, headers }));
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text === "" ? null : JSON.parse(text);
    } catch {
      body = null;
    }
    return { status: res.status, body, text, headers: res.headers };
  };
  return { ...t, app: app as unknown as TestApp["app"], request };
}
