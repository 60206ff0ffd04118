import { randomBytes } from "node:crypto";

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** `msg_...`, `scd_...`: random base58, the look of QStash's own ids. */
export function randomId(prefix: string, length = 32): string {
  const bytes = randomBytes(length);
  let out = prefix;
  // 58 does not divide 256: the slight bias is irrelevant for identifiers that only need to be unique.
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}
