import { createHash, createHmac, randomUUID } from "node:crypto";

/** Claims of a QStash `Upstash-Signature` JWT. */
export interface QStashClaims {
  iss?: string;
  sub?: string;
  iat?: number;
  nbf?: number;
  exp?: number;
  jti?: string;
  body?: string;
}

const b64url = (buf: Buffer | string) => Buffer.from(buf).toString("base64url");

/** base64url(SHA-256(body)) with the `=` padding real QStash keeps. */
export function bodyHash(body: string | Uint8Array): string {
  const digest = createHash("sha256").update(body).digest("base64url");
  return digest + "=".repeat((4 - (digest.length % 4)) % 4);
}

/** Signs claims as QStash does: HS256 over the signing key string's UTF-8 bytes. */
export function signJwt(claims: QStashClaims, key: string): string {
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = b64url(JSON.stringify(claims));
  const sig = createHmac("sha256", key).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${sig}`;
}

/** The signature QStash puts on a delivery of `body` to `url`, valid for five minutes. */
export function signDelivery(opts: { url: string; body: string | Uint8Array; key: string; now?: number }): string {
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  return signJwt(
    { iss: "Upstash", sub: opts.url, iat: now, nbf: now, exp: now + 300, jti: `jwt_${randomUUID()}`, body: bodyHash(opts.body) },
    opts.key,
  );
}
