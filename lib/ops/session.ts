import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Env } from "../env";

/**
 * The console's session: a cookie `v2.<expires ms>.<nonce>.<operator>.<mac>` signed with a key derived from the
 * console password, so changing OPS_PASSWORD (or CRON_SECRET) signs every session out. Nothing is
 * stored server-side: a serverless instance can check it alone. The CSRF token of a session is a
 * second MAC over its nonce: forms carry it, a cross-site page cannot read it. The password is
 * shared; the operator is the name given at sign-in (base64url in the cookie, under the MAC), so
 * every action is recorded with who did it.
 */
export const SESSION_TTL_MS = 12 * 3_600_000;

export interface CookieSpec {
  name: string;
  secure: boolean;
}

/** `__Host-` makes the browser refuse the cookie unless Secure, Path=/ and no Domain: only over https. */
export function cookieSpec(env: Pick<Env, "mode" | "appUrl">): CookieSpec {
  const secure = env.mode === "production" || env.appUrl.startsWith("https://");
  return { name: secure ? "__Host-cronlayer_ops" : "cronlayer_ops", secure };
}

const keyOf = (password: string) => createHmac("sha256", password).update("cronlayer ops session v1").digest();
const mac = (key: Buffer, text: string) => createHmac("sha256", key).update(text).digest("base64url");

/** Constant-time, whatever the lengths (both sides hashed first). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** A name as the sign-in takes it: trimmed, 1 to 40 characters, no control characters; else undefined. */
export function operatorName(v: unknown): string | undefined {
  const name = typeof v === "string" ? v.normalize("NFC").trim().replace(/\s+/g, " ") : "";
  return name.length >= 1 && [...name].length <= 40 && !/\p{Cc}/u.test(name) ? name : undefined;
}

export function newSession(password: string, now: number, operator: string): { value: string; expires: Date } {
  const name = operatorName(operator);
  if (!name) throw new Error("a session needs the operator's name (1 to 40 characters)");
  const expires = now + SESSION_TTL_MS;
  const body = `v2.${expires}.${randomBytes(18).toString("base64url")}.${Buffer.from(name, "utf8").toString("base64url")}`;
  return { value: `${body}.${mac(keyOf(password), body)}`, expires: new Date(expires) };
}

export interface Session {
  nonce: string;
  /** Who signed in (the name they gave). */
  operator: string;
  expires: Date;
  csrf: string;
}

/** The session a cookie value proves, or undefined (malformed, forged, expired, or no password set). */
export function readSession(value: string | undefined, password: string | undefined, now: number): Session | undefined {
  if (!value || !password) return undefined;
  const m = /^(v2\.(\d{13})\.([A-Za-z0-9_-]{24})\.([A-Za-z0-9_-]{1,216}))\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return undefined;
  const key = keyOf(password);
  const expected = Buffer.from(mac(key, m[1]!));
  const given = Buffer.from(m[5]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  const expires = Number(m[2]);
  if (expires <= now) return undefined;
  const operator = operatorName(Buffer.from(m[4]!, "base64url").toString("utf8"));
  if (!operator) return undefined;
  return { nonce: m[3]!, operator, expires: new Date(expires), csrf: mac(key, `csrf.${m[3]}`) };
}

export function csrfMatches(session: Session, token: string | null | undefined): boolean {
  if (!token) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The Set-Cookie header value: HttpOnly always, SameSite=Strict, Secure outside local http. */
export function setCookieHeader(spec: CookieSpec, value: string, expires: Date | undefined): string {
  const parts = [`${spec.name}=${value}`, "Path=/", "HttpOnly", "SameSite=Strict"];
  parts.push(expires ? `Expires=${expires.toUTCString()}` : "Max-Age=0");
  if (spec.secure) parts.push("Secure");
  return parts.join("; ");
}

export function cookieValue(header: string | null, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
