import { createHash, timingSafeEqual } from "node:crypto";

/**
 * `Authorization: Bearer <secret>` compared in constant time. An unset secret accepts nothing,
 * so `Bearer undefined` can never get in.
 */
export function bearerMatches(header: string | null, secret: string | undefined): boolean {
  if (!secret || !header) return false;
  const m = /^Bearer (.+)$/.exec(header);
  if (!m) return false;
  // Hash both sides so the comparison takes the same time whatever the lengths.
  const a = createHash("sha256").update(m[1]!).digest();
  const b = createHash("sha256").update(secret).digest();
  return timingSafeEqual(a, b);
}
