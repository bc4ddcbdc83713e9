/**
 * `quire healthcheck`: GET http://127.0.0.1:$PORT/health/ready and exit 0 if it answers 200, else 1. For a
 * container HEALTHCHECK on an image without curl. Reads only PORT and HOST (and their flags): it must work
 * with the server's environment without validating the rest of it.
 */
export const healthcheckUsage = [
  "--port <n>           the server's port (PORT, default 3000)",
  "--host <addr>        the server's address (HOST; a wildcard means loopback)",
  "--timeout-ms <n>     give up after this long (default 3000)",
];

export function probeUrl(host: string | undefined, port: string | undefined): string {
  let h = host && host !== "" ? host : "127.0.0.1";
  if (h === "0.0.0.0") h = "127.0.0.1";
  else if (h === "::") h = "::1";
  if (h.includes(":")) h = `[${h}]`;
  return `http://${h}:${port && port !== "" ? port : "3000"}/health/ready`;
}

export async function healthcheck(flags: {
  port?: string;
  host?: string;
  "timeout-ms"?: string;
}): Promise<number> {
  const port = flags.port ?? process.env.PORT;
  const timeout = Number(flags["timeout-ms"] ?? 3000);
  if (
    (port !== undefined && port !== "" && !/^\d{1,5}$/.test(port)) ||
    !Number.isInteger(timeout) ||
    timeout <= 0
  ) {
    process.stderr.write("quire healthcheck: --port and --timeout-ms must be positive integers\n");
    return 2;
  }
  const url = probeUrl(flags.host ?? process.env.HOST, port);
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeout) });
    const body = await res.text();
    process.stdout.write(`${res.status} ${body}\n`);
    return res.status === 200 ? 0 : 1;
  } catch (err) {
    process.stdout.write(`unreachable: ${url}: ${(err as Error).message}\n`);
    return 1;
  }
}
