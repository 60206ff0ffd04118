import { createHmac, timingSafeEqual } from "node:crypto";

/** Razorpay signs the raw body: X-Razorpay-Signature = hex HMAC-SHA256(body, webhook secret). */
export function razorpaySignature(rawBody: string, secret: string): string {
  return createHmac("sha256", secret).update(rawBody, "utf8").digest("hex");
}

/** Checks the header against the raw body as received (never a re-serialised parse), in constant time. */
export function verifyRazorpaySignature(rawBody: string, header: string | null, secret: string): boolean {
  if (!header || !/^[0-9a-f]{64}$/i.test(header)) return false;
  const want = Buffer.from(razorpaySignature(rawBody, secret), "hex");
  const given = Buffer.from(header, "hex");
  return given.length === want.length && timingSafeEqual(given, want);
}
