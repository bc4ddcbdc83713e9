/**
 * SSRF guard for URLs that users (admins, here) give us to call: webhook endpoints.
 *
 * Model: an attacker who can register a URL must not make the server reach anything that is not on the public
 * internet: loopback, private networks, link-local (including the 169.254.169.254 cloud metadata service),
 * carrier-grade NAT, "this network" (0.0.0.0/8), multicast, reserved ranges, or IPv6 forms that embed an IPv4
 * address (IPv4-mapped `::ffff:127.0.0.1`, NAT64, 6to4, Teredo).
 * - Only http: and https: URLs, without credentials, at most 2048 characters.
 * - The host goes through the WHATWG URL parser first, which normalises numeric tricks (`0x7f000001`,
 *   `2130706433`, `017700000001`, `127.1`) to dotted quads, so the check sees the address the socket would.
 * - Names are resolved (every address, A and AAAA) and *every* address must be public: a name with one
 *   private address among public ones is refused.
 * - An allow-list, not a deny-list: only addresses ipaddr.js classifies as `unicast` (public) pass.
 * - Callers connect to the vetted address (`pinnedRequest`), so a DNS answer that changes between the check and
 *   the connection (rebinding) cannot redirect the request; redirects are never followed.
 * `allowPrivate` (WEBHOOK_ALLOW_PRIVATE_NETWORKS) skips the address checks, for tests and development only.
 */
import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";

export const MAX_URL_LENGTH = 2_048;
const DNS_TIMEOUT_MS = 5_000;

/** The URL is refused by policy (not a transient failure): the message is safe to show the admin. */
export class SsrfError extends Error {
  override name = "SsrfError";
}

export interface VettedUrl {
  url: URL;
  /** The address to connect to (IPv4 dotted quad or bare IPv6). */
  address: string;
  family: 4 | 6;
}

export type Lookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

const systemLookup: Lookup = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** Why `address` is not a public unicast address, or undefined if it is. */
export function addressProblem(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return "is not an IP address";
  let ip = ipaddr.parse(address);
  if (ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress()) {
    ip = (ip as ipaddr.IPv6).toIPv4Address();
  }
  const range = ip.range();
  return range === "unicast" ? undefined : `resolves to a non-public address (${range})`;
}

/** Parse and check the shape of a URL (scheme, credentials, length); no DNS. */
export function parseTargetUrl(raw: string): URL {
  if (raw.length > MAX_URL_LENGTH)
    throw new SsrfError(`is too long (maximum is ${MAX_URL_LENGTH} characters)`);
  if (!URL.canParse(raw)) throw new SsrfError("is not a valid URL");
  const url = new URL(raw);
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new SsrfError("must use http or https");
  if (url.username !== "" || url.password !== "") throw new SsrfError("must not contain credentials");
  if (url.hostname === "") throw new SsrfError("must have a host");
  return url;
}

/**
 * Parse, resolve and vet a URL. Throws SsrfError when policy refuses it; other errors (DNS failure, timeout)
 * are transient and propagate as they are.
 */
export async function vetUrl(
  raw: string,
  options: { allowPrivate: boolean; lookup?: Lookup },
): Promise<VettedUrl> {
  const url = parseTargetUrl(raw);
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  let addresses: { address: string; family: number }[];
  if (ipaddr.isValid(host)) {
    addresses = [{ address: host, family: host.includes(":") ? 6 : 4 }];
  } else {
    addresses = await withTimeout((options.lookup ?? systemLookup)(host), DNS_TIMEOUT_MS);
    if (addresses.length === 0) throw new Error(`no address for ${host}`);
  }
  if (!options.allowPrivate) {
    for (const { address } of addresses) {
      const problem = addressProblem(address);
      if (problem) throw new SsrfError(problem);
    }
  }
  const first = addresses[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}

/**
 * The URL to fetch and the options that make the connection go to the vetted address while the server still
 * sees (Host header) and TLS still verifies (SNI, certificate name) the original host name.
 */
export function pinnedRequest(vetted: VettedUrl): { url: string; host: string; serverName?: string } {
  const pinned = new URL(vetted.url);
  const isName = !ipaddr.isValid(vetted.url.hostname.replace(/^\[|\]$/g, ""));
  pinned.hostname = vetted.family === 6 ? `[${vetted.address}]` : vetted.address;
  return {
    url: pinned.toString(),
    host: vetted.url.host,
    ...(isName && vetted.url.protocol === "https:" && { serverName: vetted.url.hostname }),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("DNS lookup timed out")), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
