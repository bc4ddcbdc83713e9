/**
 * A JSON body serialized once, with its strong ETag: what the content caches keep, and what GET handlers
 * send byte for byte (src/http/etag.ts) without serializing or validating it again.
 */
export class CachedJson {
  readonly etag: string;
  constructor(readonly json: string) {
    this.etag = strongEtag(json);
  }

  static of(value: unknown): CachedJson {
    return new CachedJson(JSON.stringify(value));
  }
}

/**
 * A strong validator for a JSON body: its length and 64-bit wyhash. Two different bodies of one URL share it
 * with negligible probability, and nothing is gained by forging one (a client would keep a copy of the
 * forger's own earlier text), so a cryptographic hash would only cost time.
 */
export function strongEtag(json: string): string {
  return `"${json.length.toString(36)}-${Bun.hash(json).toString(36)}"`;
}
