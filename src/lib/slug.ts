/** URL-safe slugs: lowercase ASCII words joined by hyphens, accents folded, bounded length. */
export function slugify(text: string, maxLength = 80): string {
  const slug = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, maxLength)
    .replace(/-+$/g, "");
  return slug === "" ? "article" : slug;
}

/** A short random suffix to make a slug unique: 6 base-36 characters (~2 billion values). */
export function slugSuffix(): string {
  const n = crypto.getRandomValues(new Uint32Array(1))[0]!;
  return n.toString(36).padStart(6, "0").slice(-6);
}
