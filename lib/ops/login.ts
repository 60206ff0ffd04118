import type { Db } from "../db/types";
import type { Env } from "../env";
import { sameOrigin, safeNext, seeOther } from "./guard";
import { cookieSpec, newSession, operatorName, sameSecret, setCookieHeader } from "./session";

/** Wrong passwords allowed per client, and in all, per window. */
export const LOGIN_LIMIT = { windowMs: 15 * 60_000, perClient: 5, global: 50 };

/**
 * The client a failure is counted against. Vercel sets X-Forwarded-For itself (the first address
 * is the caller); elsewhere it can be forged, which is why a global cap backs the per-client one.
 */
export function clientOf(req: Request): string {
  const forwarded = req.headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  return (forwarded || req.headers.get("x-real-ip") || "direct").slice(0, 100);
}

/** `POST /ops/session`: checks the password under the rate limit and sets the session cookie. */
export async function signIn(req: Request, deps: { env: Env; db: Db }, now = new Date()): Promise<Response> {
  const { env, db } = deps;
  if (!sameOrigin(req, env)) return seeOther("/ops/login?error=origin");
  const form = await req.formData().catch(() => new FormData());
  const next = safeNext(form.get("next"));
  const name = operatorName(form.get("name"));
  const back = (error: string) => seeOther(`/ops/login?error=${error}&next=${encodeURIComponent(next)}${name ? `&name=${encodeURIComponent(name)}` : ""}`);
  if (!env.ops.password) return back("closed");
  // Checked before the password is: a missing name costs no attempt.
  if (!name) return back("name");
  const client = clientOf(req);
  // The attempt is reserved before the password is compared, in one atomic call: concurrent guesses
  // cannot all read "under the limit" before any of them is counted.
  const gate = await db.rpc<{ allowed: boolean; attempt?: number; retry_after_ms?: number }>("ops_login_reserve", {
    p_client: client,
    p_now: now,
    p_window_ms: LOGIN_LIMIT.windowMs,
    p_max: LOGIN_LIMIT.perClient,
    p_global_max: LOGIN_LIMIT.global,
  });
  // A guess made while limited tells nothing, right or wrong.
  if (!gate.allowed) return back(`limited&retry=${Math.ceil((gate.retry_after_ms ?? 60_000) / 1000)}`);
  const password = form.get("password");
  if (typeof password !== "string" || !sameSecret(password, env.ops.password)) return back("wrong");
  // The right password: its reservation was not a failure and does not count against the client.
  await db.rpc("ops_login_release", { p_attempt: gate.attempt });
  const session = newSession(env.ops.password, now.getTime(), name);
  return seeOther(next, { "set-cookie": setCookieHeader(cookieSpec(env), session.value, session.expires) });
}

/** `POST /ops/logout`: clears the cookie. Guarded like any action, so another site cannot sign you out. */
export function signOut(env: Pick<Env, "mode" | "appUrl">): Response {
  return seeOther("/ops/login?signed_out=1", { "set-cookie": setCookieHeader(cookieSpec(env), "", undefined) });
}
