import { Receiver } from "@upstash/qstash";

/**
 * How far ahead of our clock a token's nbf/iat may be: QStash signs on its own clock, and a server
 * a second or two behind must not refuse valid deliveries. exp gets no such slack.
 */
export const CLOCK_SKEW_SECONDS = 5;

export interface SigningKeys {
  currentSigningKey: string;
  nextSigningKey: string;
}

export type SignatureCheck = { ok: true; jti: string; expiresAt: Date } | { ok: false; reason: string };

/**
 * Verifies an `Upstash-Signature` with the official Receiver (current key, then next key, issuer,
 * exp/nbf, body hash, `sub` bound to this route's public URL), then adds what the Receiver leaves
 * out: `exp` and `jti` must be present. Accepting each jti once is the ledger's job.
 */
export async function verifySignature(keys: SigningKeys, signature: string, rawBody: string, url: string): Promise<SignatureCheck> {
  const receiver = new Receiver({ ...keys, devMode: false });
  try {
    await receiver.verify({ signature, body: rawBody, url, clockTolerance: CLOCK_SKEW_SECONDS });
  } catch (err) {
    // The Receiver throws a TypeError (not a SignatureError) for a token without a body claim.
    return { ok: false, reason: `invalid signature: ${explain(decodeClaims(signature)) ?? (err as Error).message}` };
  }
  const claims = decodeClaims(signature);
  if (typeof claims?.exp !== "number") return { ok: false, reason: "invalid signature: the token has no exp claim" };
  // The tolerance is for a clock running behind (nbf, iat); an expired token stays expired.
  if (claims.exp <= Date.now() / 1000) return { ok: false, reason: `invalid signature: ${explain(claims)}` };
  if (typeof claims.jti !== "string" || !claims.jti) return { ok: false, reason: "invalid signature: the token has no jti claim" };
  return { ok: true, jti: claims.jti, expiresAt: new Date(claims.exp * 1000) };
}

/**
 * The Receiver reports only the last key's failure ("signature verification failed"), which hides
 * why a token was refused. The unverified claims say it; they explain, they never admit.
 */
function explain(claims: Claims | undefined): string | undefined {
  if (!claims) return "the token is not a JWT";
  const now = Date.now() / 1000;
  if (typeof claims.exp === "number" && claims.exp <= now) return `the token expired (exp ${iso(claims.exp)}); QStash signs each attempt afresh`;
  if (typeof claims.nbf === "number" && claims.nbf > now + CLOCK_SKEW_SECONDS) return `the token is not valid before nbf ${iso(claims.nbf)}; check the clocks`;
  if (typeof claims.body !== "string") return "the token has no body claim";
  return undefined;
}

const iso = (s: number) => new Date(s * 1000).toISOString();

type Claims = { exp?: unknown; nbf?: unknown; jti?: unknown; body?: unknown };

function decodeClaims(token: string): Claims | undefined {
  try {
    const claims: unknown = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
    return typeof claims === "object" && claims !== null ? (claims as Claims) : undefined;
  } catch {
    return undefined;
  }
}
