import { createHmac, timingSafeEqual } from "node:crypto";
import type { Env } from "@/lib/env";
import { ConfigError } from "@/lib/errors";
import { engagementEnv } from "../env";

/**
 * The unsubscribe link's token: `<learner id>.<HMAC-SHA256 of it>`, base64url. It never expires
 * (an email from last year must still work) and names one learner, so it is a capability for
 * that learner's opt-out and nothing else. The purpose string keeps a token of this kind from
 * being accepted anywhere another HMAC made with the same secret is checked.
 */
const PURPOSE = "cronlayer:engagement:unsubscribe:v1:";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const mac = (secret: string, learnerId: string) => createHmac("sha256", secret).update(PURPOSE + learnerId).digest();

export function unsubscribeToken(secret: string, learnerId: string): string {
  if (!UUID.test(learnerId)) throw new Error(`unsubscribeToken: learnerId must be a lowercase uuid, got "${learnerId}"`);
  return `${learnerId}.${mac(secret, learnerId).toString("base64url")}`;
}

/** The learner the token names, or undefined when it is malformed or its signature does not match. */
export function verifyUnsubscribeToken(secret: string, token: string | null | undefined): string | undefined {
  if (!token || token.length > 200) return undefined;
  const dot = token.indexOf(".");
  const learnerId = token.slice(0, dot);
  if (dot < 0 || !UUID.test(learnerId)) return undefined;
  const given = Buffer.from(token.slice(dot + 1), "base64url");
  const want = mac(secret, learnerId);
  return given.length === want.length && timingSafeEqual(given, want) ? learnerId : undefined;
}

/** The secret, or a configuration error naming the variable: without it no link can be made or checked. */
export function unsubscribeSecret(env: Env): string {
  const secret = engagementEnv.of(env).unsubscribeSecret;
  if (!secret) {
    throw new ConfigError("UNSUBSCRIBE_SECRET is not set: engagement emails carry a signed unsubscribe link and cannot be sent without it. Generate one (openssl rand -hex 32) and set it.");
  }
  return secret;
}

export const UNSUBSCRIBE_PATH = "/api/engagement/unsubscribe";

export function unsubscribeUrl(env: Env, learnerId: string): string {
  return `${env.appUrl}${UNSUBSCRIBE_PATH}?token=${encodeURIComponent(unsubscribeToken(unsubscribeSecret(env), learnerId))}`;
}
