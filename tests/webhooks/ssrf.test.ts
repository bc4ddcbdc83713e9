/** src/lib/ssrf.ts on its own: the address classifier, DNS answers, and the pinned request. */
import { describe, expect, test } from "bun:test";
import { addressProblem, pinnedRequest, SsrfError, vetUrl } from "../../src/lib/ssrf.ts";

describe("addressProblem: only public unicast passes", () => {
  const cases: [string, string | undefined][] = [
    ["93.184.215.14", undefined],
    ["8.8.8.8", undefined],
    ["2606:4700:4700::1111", undefined],
    ["127.0.0.1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.1", undefined],
    ["192.168.0.1", "private"],
    ["169.254.169.254", "linkLocal"],
    ["100.64.0.1", "carrierGradeNat"],
    ["100.128.0.1", undefined],
    ["0.1.2.3", "unspecified"],
    ["255.255.255.255", "broadcast"],
    ["239.1.1.1", "multicast"],
    ["192.0.2.1", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:8.8.8.8", undefined],
    ["fe80::1", "linkLocal"],
    ["fc00::1", "uniqueLocal"],
    ["ff02::1", "multicast"],
    ["2002:7f00:1::", "6to4"],
  ];
  for (const [address, range] of cases) {
    test(`${address} → ${range ?? "public"}`, async () => {
      expect(addressProblem(address)).toBe(range && `resolves to a non-public address (${range})`);
    });
  }
});

describe("vetUrl", () => {
  const fakeDns = (answers: Record<string, string[]>) => async (host: string) => {
    const list = answers[host];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return list.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };

  test("every address of a name must be public: one private answer among public ones is refused", async () => {
    const lookup = fakeDns({ "mixed.example": ["93.184.215.14", "10.0.0.5"] });
    await expect(vetUrl("https://mixed.example/x", { allowPrivate: false, lookup })).rejects.toThrow(
      new SsrfError("resolves to a non-public address (private)"),
    );
  });

  test("a public name resolves to the address the request will be pinned to", async () => {
    const lookup = fakeDns({ "hooks.example": ["2606:4700::1", "93.184.215.14"] });
    const vetted = await vetUrl("https://hooks.example:8443/in?x=1", { allowPrivate: false, lookup });
    expect(vetted).toMatchObject({ address: "2606:4700::1", family: 6 });
    expect(pinnedRequest(vetted)).toEqual({
      url: "https://[2606:4700::1]:8443/in?x=1",
      host: "hooks.example:8443",
      serverName: "hooks.example",
    });
  });

  test("a literal address is not looked up, and needs no SNI", async () => {
    const lookup = () => Promise.reject(new Error("must not be called"));
    const vetted = await vetUrl("http://93.184.215.14/x", { allowPrivate: false, lookup });
    expect(pinnedRequest(vetted)).toEqual({ url: "http://93.184.215.14/x", host: "93.184.215.14" });
  });

  test("a DNS failure is transient (not an SsrfError), so a delivery retries", async () => {
    const err = await vetUrl("https://nowhere.example/", { allowPrivate: false, lookup: fakeDns({}) }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(SsrfError);
  });

  test("allowPrivate skips the address check but not the scheme check", async () => {
    const lookup = fakeDns({ "intranet.local": ["10.0.0.5"] });
    expect((await vetUrl("http://intranet.local/", { allowPrivate: true, lookup })).address).toBe("10.0.0.5");
    await expect(vetUrl("file:///etc/passwd", { allowPrivate: true, lookup })).rejects.toThrow(SsrfError);
  });
});
