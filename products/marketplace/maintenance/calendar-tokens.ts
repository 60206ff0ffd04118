import { ConfigError, describeError, RetryAfterError } from "@/lib/errors";
import type { JobContext } from "@/lib/jobs/define";
import type { MaintenanceStep } from "@/lib/products";
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

/** keep-alive's daily step for the marketplace (its stats appear as `calendarTokens`). */
export const calendarTokensStep: MaintenanceStep = {
  name: "calendarTokens",
  title: "Google Calendar tokens",
  async run(ctx) {
    try {
      const tokens = await refreshCalendarTokens(ctx);
      const problems: string[] = [];
      if (tokens.failed) problems.push(`Google Calendar tokens: ${tokens.failed} refresh(es) failed, left for the next run (their errors: GET /api/diagnostics?job=keep-alive)`);
      if (tokens.noticesFailed) problems.push(`Google Calendar: ${tokens.noticesFailed} re-consent notice(s) failed to send, left for the next run`);
      return { stats: tokens, problems };
    } catch (err) {
      // Google asked us to wait, or its client is not configured: the run ends with that, once the rest is done.
      const fatal = err instanceof RetryAfterError || err instanceof ConfigError ? err : undefined;
      return { stats: { error: describeError(err).message }, problems: [`Google Calendar tokens: ${describeError(err).message}`], fatal };
    }
  },
};
