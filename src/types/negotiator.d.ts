// negotiator 1.x (CommonJS): the encoding API only. Its @types package describes 0.6, which lacks `preferred`.
declare module "negotiator" {
  interface Headers {
    [name: string]: string | string[] | undefined;
  }
  export default class Negotiator {
    constructor(request: { headers: Headers });
    /** The best of `available` the client accepts; `preferred` orders codings the client rates equally. */
    encoding(available?: string[], options?: { preferred?: string[] }): string | undefined;
    encodings(available?: string[], options?: { preferred?: string[] }): string[];
  }
}
