/**
 * A loopback TCP proxy for "the server went away" tests: stop() drops every connection and refuses new ones
 * (as a crashed or unreachable database server does); start() listens again on the same port.
 */
import type { Socket, TCPSocketListener } from "bun";

export interface TcpProxy {
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

interface Pipe {
  peer?: Socket<Pipe>;
  /** Bytes not yet accepted by the peer (or received before it connected). */
  pending: Uint8Array[];
}

function flush(to: Socket<Pipe>, queue: Uint8Array[]): void {
  while (queue.length > 0) {
    const chunk = queue[0]!;
    const written = to.write(chunk);
    if (written < chunk.length) {
      queue[0] = chunk.subarray(written);
      return;
    }
    queue.shift();
  }
}

export async function startProxy(host: string, port: number): Promise<TcpProxy> {
  const open = new Set<Socket<Pipe>>();
  let listener: TCPSocketListener<Pipe> | undefined;
  let listenPort = 0;

  const listen = () => {
    listener = Bun.listen<Pipe>({
      hostname: "127.0.0.1",
      port: listenPort,
      socket: {
        open(client) {
          client.data = { pending: [] };
          open.add(client);
          void Bun.connect<Pipe>({
            hostname: host,
            port,
            data: { peer: client, pending: [] },
            socket: {
              open(upstream) {
                open.add(upstream);
                client.data.peer = upstream;
                flush(upstream, client.data.pending);
              },
              data(upstream, chunk) {
                upstream.data.pending.push(new Uint8Array(chunk));
                flush(client, upstream.data.pending);
              },
              drain(upstream) {
                flush(client, upstream.data.pending);
              },
              close(upstream) {
                open.delete(upstream);
                client.end();
              },
              error(upstream) {
                upstream.end();
              },
            },
          }).catch(() => client.end());
        },
        data(client, chunk) {
          client.data.pending.push(new Uint8Array(chunk));
          if (client.data.peer) flush(client.data.peer, client.data.pending);
        },
        drain(client) {
          const upstream = client.data.peer;
          if (upstream) flush(client, upstream.data.pending);
        },
        close(client) {
          open.delete(client);
          client.data.peer?.end();
        },
        error(client) {
          client.end();
        },
      },
    });
    listenPort = listener.port;
  };

  listen();
  return {
    get port() {
      return listenPort;
    },
    async start() {
      if (!listener) listen();
    },
    async stop() {
      listener?.stop(true);
      listener = undefined;
      for (const socket of open) socket.terminate();
      open.clear();
    },
  };
}
