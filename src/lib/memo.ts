/**
 * Per-owner memoisation: prepared statements belong to one database connection, so they are built once per
 * connection (the owner object) and dropped with it. No global state is shared between two apps.
 */
export function perOwner<K extends object, T>(build: (owner: K) => T): (owner: K) => T {
  const built = new WeakMap<K, T>();
  return (owner) => {
    let value = built.get(owner);
    if (value === undefined) {
      value = build(owner);
      built.set(owner, value);
    }
    return value;
  };
}
