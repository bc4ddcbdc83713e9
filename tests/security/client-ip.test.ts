/** Client-address resolution: who may speak for whom through X-Forwarded-For. */
import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import {
  parseAddress,
  rateKey,
  resolveClient,
  trustedProxies,
  trustedProxyProblem,
} from "../../src/lib/client-address.ts";

const h = (o: Record<string, string> = {}) => new Headers(o);
const none = trustedProxies([]);
const lb = trustedProxies(["10.0.0.0/8", "loopback"]);

describe("resolveClient", () => {
  test("with no trusted proxy the peer is the client and headers are never read", async () => {
    const c = resolveClient(
      "203.0.113.7",
      h({ "x-forwarded-for": "1.1.1.1", "x-forwarded-proto": "https" }),
      none,
    );
    expect(c).toEqual({ ip: "203.0.113.7", key: "203.0.113.7", https: false });
  });

  test("a trusted peer's XFF is walked from the right to the first untrusted address", async () => {
    const c = resolveClient(
      "10.0.0.2",
      h({ "x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.1.1.1, 127.0.0.1" }),
      lb,
    );
    expect(c.ip).toBe("203.0.113.7");
  });

  test("all hops trusted: the left-most address is the client", async () => {
    expect(resolveClient("127.0.0.1", h({ "x-forwarded-for": "10.0.0.5, 10.0.0.6" }), lb).ip).toBe(
      "10.0.0.5",
    );
  });

  test("garbage in XFF stops the walk at the last good address", async () => {
    expect(resolveClient("10.0.0.2", h({ "x-forwarded-for": "203.0.113.7, not-an-ip" }), lb).ip).toBe(
      "10.0.0.2",
    );
    expect(resolveClient("10.0.0.2", h({ "x-forwarded-for": "1.2.3" }), lb).ip).toBe("10.0.0.2");
  });

  test("IPv4-mapped IPv6 peers are IPv4; IPv6 is keyed by /64", async () => {
    expect(resolveClient("::ffff:10.0.0.2", h({ "x-forwarded-for": "203.0.113.7" }), lb).ip).toBe(
      "203.0.113.7",
    );
    expect(rateKey(parseAddress("2001:db8:a:b:1:2:3:4")!)).toBe("2001:db8:a:b::/64");
    expect(resolveClient("[2001:db8::1]", h(), none).key).toBe("2001:db8:0:0::/64");
  });

  test("X-Forwarded-Proto counts only from a trusted peer", async () => {
    expect(resolveClient("10.0.0.2", h({ "x-forwarded-proto": "https" }), lb).https).toBe(true);
    expect(resolveClient("192.0.2.1", h({ "x-forwarded-proto": "https" }), lb).https).toBe(false);
  });

  test("no peer (in-process): unknown client with no address", async () => {
    expect(resolveClient(undefined, h({ "x-forwarded-for": "1.1.1.1" }), lb)).toEqual({
      key: "unknown",
      https: false,
    });
  });
});

describe("TRUSTED_PROXIES validation", () => {
  test.each(["10.0.0.0/8", "::1", "fd00::/8", "loopback", "uniquelocal", "192.0.2.1"])(
    "%s is accepted",
    (e) => {
      expect(trustedProxyProblem(e)).toBeUndefined();
    },
  );
  test.each(["10.0.0.0/33", "example.com", "10.1", "*"])("%s is refused", (e) => {
    expect(trustedProxyProblem(e)).toBeString();
  });
  test("a bad entry stops the configuration naming the variable", async () => {
    expect(() =>
      loadConfig({ NODE_ENV: "test", JWT_SECRET: "x".repeat(40), TRUSTED_PROXIES: "10.0.0.0/8, nope" }),
    ).toThrow(/TRUSTED_PROXIES: "nope"/);
  });
});
