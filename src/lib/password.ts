/**
 * Password hashing: argon2id through Bun.password (runs off the JavaScript thread). The cost is configurable
 * so tests can make it cheap; production defaults follow OWASP (19 MiB, 2 iterations).
 *
 * `verify(password, undefined)` checks against a decoy hash of the same cost, so a login for an unknown
 * account takes as long as one with a wrong password: nothing to learn from the timing.
 */
export interface PasswordCost {
  memoryCost: number;
  timeCost: number;
}

export class Passwords {
  #decoy: Promise<string> | undefined;

  constructor(private readonly cost: PasswordCost) {}

  hash(password: string): Promise<string> {
    return Bun.password.hash(password, { algorithm: "argon2id", ...this.cost });
  }

  /** False for a wrong password, a malformed hash, or no hash at all (after as much work as a real check). */
  async verify(password: string, hash: string | undefined): Promise<boolean> {
    this.#decoy ??= this.hash("decoy-password-never-matches");
    const against = hash ?? (await this.#decoy);
    const ok = await Bun.password.verify(password, against).catch(() => false);
    return ok && hash !== undefined;
  }
}
