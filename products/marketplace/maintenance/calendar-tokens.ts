import type { JobContext } from "@/lib/jobs/define";
import { sendReconsentNotices } from "./reconsent-notices";
import { refreshTokens } from "./token-refresh";

/**
 * Google Calendar tokens expiring within 24 h are refreshed with the refresh-token grant. A
 * revoked grant marks the connection as needing re-consent and the expert is told (email + in-app,
 * once per revocation): it is the expert's to fix, so it does not fail the run.
 */
export async function refreshCalendarTokens(ctx: JobContext<unknown>) {
  const totals = { ...(await refreshTokens(ctx)), notified: 0 };

  const notices = await sendReconsentNotices(ctx);
  totals.notified = notices.notified;
  return { ...totals, noticesFailed: notices.noticesFailed };
}
