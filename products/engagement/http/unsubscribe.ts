import { escapeHtml } from "@/lib/emails/layout";
import { describeError } from "@/lib/errors";
import type { RunDeps } from "@/lib/jobs/run";
import { unsubscribeSecret, verifyUnsubscribeToken } from "../lib/unsubscribe-token";

/**
 * `GET /api/engagement/unsubscribe?token=...`: the link in every engagement email. A valid token
 * turns the learner's engagement emails off and shows a short confirmation; a bad or forged one
 * is a 400 and changes nothing. Without UNSUBSCRIBE_SECRET nothing can be checked: 503 (closed).
 */
export function unsubscribeRoute(getDeps: () => Promise<Pick<RunDeps, "env" | "db" | "log">>) {
  async function GET(req: Request): Promise<Response> {
    let deps: Pick<RunDeps, "env" | "db" | "log">;
    let secret: string;
    try {
      deps = await getDeps();
      secret = unsubscribeSecret(deps.env);
    } catch (err) {
      console.error(`unsubscribe refused: ${describeError(err).message}`);
      return page(503, "Unsubscribe is unavailable", "We could not process this link right now. Please try again later.");
    }
    const learnerId = verifyUnsubscribeToken(secret, new URL(req.url).searchParams.get("token"));
    if (!learnerId) {
      deps.log.warn("engagement.unsubscribe.rejected", { reason: "invalid token" });
      return page(400, "This link is not valid", "This unsubscribe link is incomplete or has been altered. Please use the link from the email itself.");
    }
    try {
      const r = await deps.db.rpc<{ found: boolean; changed: boolean }>("engagement_unsubscribe", { p_learner: learnerId, p_now: new Date() });
      deps.log.info("engagement.unsubscribe", { learnerId, ...r });
    } catch (err) {
      deps.log.error("engagement.unsubscribe.failed", { learnerId, error: describeError(err) });
      return page(500, "Something went wrong", "We could not unsubscribe you just now. Please try the link again in a minute.");
    }
    return page(200, "You are unsubscribed", "You will not get practice reminders or other emails like this one any more. You can turn reminders back on in the app's settings.");
  }
  return { GET };
}

function page(status: number, title: string, text: string): Response {
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title></head>
<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:480px;margin:64px auto;padding:0 16px;color:#1f2328">
<h1 style="font-size:22px">${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`;
  return new Response(body, { status, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "referrer-policy": "no-referrer" } });
}
