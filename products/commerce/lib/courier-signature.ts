import { createHmac, timingSafeEqual } from "node:crypto";

/** The courier signs the raw body: X-Courier-Signature = hex HMAC-SHA256(body, COURIER_WEBHOOK_SECRET). */
export function courierSignature(rawBody: string, secret: string): string {
  return createHmac("sha256", secret).update(rawBody, "utf8").digest("hex");
}

/** Checks the header (hex, optionally `sha256=`-prefixed) against the raw body as received, in constant time. */
export function verifyCourierSignature(rawBody: string, header: string | null, secret: string): boolean {
  const hex = header?.trim().replace(/^sha256=/i, "");
  if (!hex || !/^[0-9a-f]{64}$/i.test(hex)) return false;
  const want = Buffer.from(courierSignature(rawBody, secret), "hex");
  const given = Buffer.from(hex, "hex");
  return given.length === want.length && timingSafeEqual(given, want);
}
