/**
 * Password hashing: argon2id through Bun.password (runs off the JavaScript thread). The cost is configurable
 * so tests can make it cheap; production defaults follow OWASP (19 MiB, 2 iterations).
 */
export interface PasswordCost {
  memoryCost: number;
  timeCost: number;
}

export function hashPassword(password: string, cost: PasswordCost): Promise<string> {
  return Bun.password.hash(password, { algorithm: "argon2id", ...cost });
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return Bun.password.verify(password, hash).catch(() => false);
}
