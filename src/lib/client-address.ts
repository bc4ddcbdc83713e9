/**
 * Who is the client? Trust model:
 * - The direct peer (the TCP address Bun reports) is the client, unless it is a configured trusted proxy
 *   (TRUSTED_PROXIES: CIDRs, addresses, or `loopback` / `linklocal` / `uniquelocal`).
 * - Only then is `X-Forwarded-For` read, from the right: each trusted proxy appended the address it saw, so
 *   the right-most address that is *not* a trusted proxy is the first one nobody we trust vouched for: the
 *   client. Anything to its left was written by the client and is ignored, so spoofing XFF changes nothing.
 *   An unparsable entry stops the walk at the last good address.
 * - `X-Forwarded-Proto: https` from a trusted proxy marks the request as TLS (for HSTS).
 * - Rate limits key IPv6 clients by their /64: one subscriber usually holds a whole /64, and keying by
 *   full address would hand each of them 2^64 fresh buckets.
 */
import ipaddr from "ipaddr.js";

export type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Address, number];

/** Named ranges, as understood by Express's `trust proxy` (proxy-addr). */
const named: Record<string, string[]> = {
  loopback: ["127.0.0.1/8", "::1/128"],
  linklocal: ["169.254.0.0/16", "fe80::/10"],
  uniquelocal: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
};

/** The most XFF entries looked at: a longer chain than this is not a real proxy chain. */
const MAX_HOPS = 16;

export interface ClientInfo {
  /** The client's address; undefined when there is no peer (in-process requests). */
  ip?: string;
  /** The rate-limit key for the address: IPv4 as is, IPv6 as its /64. */
  key: string;
  /** The request reached the first trusted hop over TLS. */
  https: boolean;
}

/** A strict parse: dotted-quad IPv4 (no "10.1" shorthands) or IPv6; IPv4-mapped IPv6 becomes IPv4. */
export function parseAddress(text: string | undefined | null): Address | undefined {
  if (!text) return undefined;
  const s = text.trim().replace(/^\[(.*)\]$/, "$1");
  if (!ipaddr.IPv4.isValidFourPartDecimal(s) && !ipaddr.IPv6.isValid(s)) return undefined;
  return ipaddr.process(s);
}

/** Check a TRUSTED_PROXIES entry; returns a problem description or undefined. */
export function trustedProxyProblem(entry: string): string | undefined {
  if (named[entry]) return undefined;
  if (entry.includes("/")) return ipaddr.isValidCIDR(entry) ? undefined : `"${entry}" is not a CIDR range`;
  return parseAddress(entry) ? undefined : `"${entry}" is not an IP address, CIDR range or range name`;
}

/** The test when no proxy is trusted (TRUSTED_PROXIES empty), recognised by resolveClient's fast path. */
export const trustsNone = (_addr: Address): boolean => false;

/** Build the "is this peer a trusted proxy?" test from validated entries. */
export function trustedProxies(entries: readonly string[]): (addr: Address) => boolean {
  const ranges: Range[] = entries.flatMap((entry) =>
    (named[entry] ?? [entry]).map((e): Range => {
      if (e.includes("/")) {
        const [base, bits] = ipaddr.parseCIDR(e);
        // A v4 range written in mapped form (::ffff:10.0.0.0/104) matches plain v4 peers.
        if (base.kind() === "ipv6" && (base as ipaddr.IPv6).isIPv4MappedAddress())
          return [(base as ipaddr.IPv6).toIPv4Address(), bits - 96];
        return [base, bits];
      }
      const addr = parseAddress(e)!;
      return [addr, addr.kind() === "ipv4" ? 32 : 128];
    }),
  );
  if (ranges.length === 0) return trustsNone;
  return (addr) => ranges.some(([base, bits]) => base.kind() === addr.kind() && addr.match(base, bits));
}

export function rateKey(addr: Address): string {
  if (addr.kind() === "ipv4") return addr.toString();
  const p = (addr as ipaddr.IPv6).parts;
  return `${p
    .slice(0, 4)
    .map((n) => n.toString(16))
    .join(":")}::/64`;
}

const unknown: ClientInfo = Object.freeze({ key: "unknown", https: false });

/** A dotted quad as ipaddr.js would print it back (no leading zeros): its own address and rate key. */
const CANONICAL_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * Resolve the client from the direct peer and the forwarding headers. `isTrusted` decides which peers may
 * speak for others; with no trusted proxies the headers are never read.
 */
export function resolveClient(
  peer: string | undefined | null,
  headers: Headers,
  isTrusted: (addr: Address) => boolean,
  tls = false,
): ClientInfo {
  // The usual case, without parsing: no proxy to believe and a peer already in canonical IPv4 form.
  if (isTrusted === trustsNone && peer && CANONICAL_IPV4.test(peer))
    return { ip: peer, key: peer, https: tls };
  let addr = parseAddress(peer);
  if (!addr) return tls ? { ...unknown, https: true } : unknown;
  let https = tls;
  if (isTrusted(addr)) {
    const proto = headers.get("x-forwarded-proto");
    if (proto) https = proto.split(",")[0]!.trim().toLowerCase() === "https";
    const hops = (headers.get("x-forwarded-for") ?? "").split(",").slice(-MAX_HOPS);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = parseAddress(hops[i]);
      if (!hop) break;
      addr = hop;
      if (!isTrusted(hop)) break;
    }
  }
  return { ip: addr.toString(), key: rateKey(addr), https };
}
