import { bearerMatches } from "./bearer";
import { verifySignature, type SigningKeys } from "./signature";

/**
 * Who started a run. `catch-up` (the watchdog runs a missed slot) and `backfill` (a past range
 * replayed) are QStash one-time messages that name their slot (RunRequest.slotAt).
 */
export type Trigger = "qstash" | "vercel" | "manual" | "cli" | "catch-up" | "backfill";

export type AuthResult =
  | { ok: true; trigger: "qstash"; jti: string; expiresAt: Date }
  | { ok: true; trigger: "vercel" | "manual" }
  | { ok: false; reason: string };

/**
 * The only two ways in: a QStash signature over the raw body bound to `url`, or the Bearer secret
 * (Vercel cron, manual runs, `pnpm job:trigger`). A request carrying a signature is judged by it
 * alone; a bad signature never falls back to the Bearer check.
 */
export async function authenticate(
  req: Request,
  rawBody: string,
  url: string,
  opts: { keys: SigningKeys; cronSecret: string | undefined },
): Promise<AuthResult> {
  const signature = req.headers.get("upstash-signature");
  if (signature !== null) {
    const check = await verifySignature(opts.keys, signature, rawBody, url);
    return check.ok ? { ok: true, trigger: "qstash", jti: check.jti, expiresAt: check.expiresAt } : check;
  }
  const auth = req.headers.get("authorization");
  if (auth === null) return { ok: false, reason: "missing Upstash-Signature or Authorization header" };
  if (!opts.cronSecret) return { ok: false, reason: "Bearer authentication is disabled: CRON_SECRET is not set" };
  if (!bearerMatches(auth, opts.cronSecret)) return { ok: false, reason: "wrong Bearer secret" };
  const vercel = (req.headers.get("user-agent") ?? "").startsWith("vercel-cron/");
  return { ok: true, trigger: vercel ? "vercel" : "manual" };
}
