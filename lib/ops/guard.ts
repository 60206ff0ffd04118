import type { Env } from "../env";
import { cookieSpec, cookieValue, csrfMatches, readSession, type Session } from "./session";

/** A 303 to a page of the console: after a POST the browser GETs the result (no resubmit on reload). */
export const seeOther = (location: string, headers: Record<string, string> = {}) => new Response(null, { status: 303, headers: { location, "cache-control": "no-store", ...headers } });

const refuse = (status: number, error: string) =>
  new Response(JSON.stringify({ error }), { status, headers: { "content-type": "application/json", "cache-control": "no-store" } });

/**
 * A POST from another site is refused on its Origin before anything else; SameSite=Strict keeps the
 * session cookie off it anyway and the CSRF token is the third lock. A missing Origin (old clients,
 * some proxies) leaves the decision to the other two.
 */
export function sameOrigin(req: Request, env: Pick<Env, "appUrl">): boolean {
  const origin = req.headers.get("origin");
  if (origin === null) return true;
  const allowed = new Set([new URL(env.appUrl).origin, new URL(req.url).origin]);
  return allowed.has(origin);
}

export type Guarded = { ok: true; session: Session; form: FormData } | { ok: false; response: Response };

/** Every console action: same origin, a valid session, and the session's CSRF token in the form. */
export async function guardAction(req: Request, env: Pick<Env, "appUrl" | "mode" | "ops">, now = Date.now()): Promise<Guarded> {
  if (!sameOrigin(req, env)) return { ok: false, response: refuse(403, "cross-origin request refused") };
  const session = readSession(cookieValue(req.headers.get("cookie"), cookieSpec(env).name), env.ops.password, now);
  if (!session) return { ok: false, response: refuse(401, "not signed in: sign in at /ops/login") };
  let form: FormData;
  try {
    form = await req.formData();
  } catch {
    return { ok: false, response: refuse(400, "expected a form (application/x-www-form-urlencoded or multipart/form-data)") };
  }
  const token = form.get("csrf");
  if (!csrfMatches(session, typeof token === "string" ? token : null)) return { ok: false, response: refuse(403, "missing or wrong CSRF token: reload the page and try again") };
  return { ok: true, session, form };
}

/** Only paths inside the console: a `next=` parameter must never send a signed-in user elsewhere. */
export function safeNext(next: unknown): string {
  return typeof next === "string" && /^\/ops(?:[/?#]|$)/.test(next) && !next.startsWith("//") && !next.includes("\\") ? next : "/ops";
}
