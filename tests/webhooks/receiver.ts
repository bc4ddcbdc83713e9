/** A webhook receiver on 127.0.0.1 (a real socket) that records every request and answers as told. */
export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface Receiver {
  url: string;
  port: number;
  requests: Received[];
  stop(): void;
}

export function startReceiver(
  respond: (request: Received, n: number) => Response | Promise<Response>,
): Receiver {
  const requests: Received[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const received = {
        path: new URL(req.url).pathname,
        headers: Object.fromEntries(req.headers),
        body: await req.text(),
      };
      requests.push(received);
      return respond(received, requests.length);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/hook`,
    port: server.port!,
    requests,
    stop: () => void server.stop(true),
  };
}
