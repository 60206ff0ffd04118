import { calendarReconnectEmail } from "@/emails/calendar-reconnect";
import { drainClaims, errorText, type ClaimPage, type ItemResult } from "@/lib/jobs/batch";
import type { JobContext } from "@/lib/jobs/define";
import type { TokenRefresh } from "@/lib/providers";
import { claimRow } from "../../marketplace/shared/appointment-reminders";

interface Due {
  connection_id: string;
  refresh_token: string;
  expires_at: string;
  expert: { id: string; name: string; email: string; time_zone: string };
}
interface Notice {
  key: string;
  connection_id: string;
  to: { id: string; name: string; email: string; time_zone: string };
}

const HORIZON_MS = 24 * 3_600_000;

/**
 * Google Calendar tokens expiring within 24 h are refreshed with the refresh-token grant. A
 * revoked grant marks the connection as needing re-consent and the expert is told (email + in-app,
 * once per revocation): it is the expert's to fix, so it does not fail the run.
 */
export async function refreshCalendarTokens(ctx: JobContext<unknown>, leaseMs: number) {
  const { db, providers, now, run, signal, log } = ctx;
  const totals = { refreshed: 0, revoked: 0, failed: 0, notified: 0 };
  await drainClaims<Due, TokenRefresh>({
    claim: () => db.rpc<ClaimPage<Due>>("calendar_tokens_claim", { p_run_id: run.id, p_now: now, p_horizon_ms: HORIZON_MS, p_lease_ms: leaseMs, p_limit: 100 }),
    // The provider is resolved on the first token, so a deployment without calendar connections needs no Google client.
    work: (c) => providers.google().refresh({ refreshToken: c.refresh_token, key: `google-refresh:${c.connection_id}:${c.expires_at}` }, signal),
    finish: async (results) => {
      const r = await db.rpc<{ refreshed: number; revoked: number; failed: number }>("calendar_tokens_finish", { p_run_id: run.id, p_now: now, p_results: results.map((x) => tokenRow(x, now)) });
      totals.refreshed += r.refreshed;
      totals.revoked += r.revoked;
      totals.failed += r.failed;
    },
    concurrency: 4,
    signal,
    onError: (c, error) => log.warn("calendar.refresh_failed", { connectionId: c.connection_id, error: errorText(error) }),
  });

  const notices = await drainClaims<Notice, void>({
    claim: () => db.rpc<ClaimPage<Notice>>("reconsent_notices_claim", { p_run_id: run.id, p_now: now, p_lease_ms: leaseMs, p_limit: 100 }),
    work: async (n) => {
      const message = calendarReconnectEmail({ name: n.to.name });
      await providers.email().send({ to: n.to.email, ...message, idempotencyKey: n.key, tags: { kind: "calendar-reconnect" } }, signal);
      await providers.notify().trigger(
        { workflowId: "calendar-reconnect", subscriber: { id: n.to.id, email: n.to.email, name: n.to.name }, payload: { connectionId: n.connection_id, subject: message.subject }, transactionId: n.key },
        signal,
      );
    },
    finish: (results) => db.rpc("notification_claims_finish", { p_run_id: run.id, p_now: now, p_results: results.map(claimRow) }).then(() => {}),
    concurrency: 4,
    signal,
    onError: (n, error) => log.warn("calendar.notice_failed", { key: n.key, error: errorText(error) }),
  });
  totals.notified = notices.ok;
  return { ...totals, noticesFailed: notices.failed };
}

function tokenRow(r: ItemResult<Due, TokenRefresh>, now: Date) {
  const id = r.item.connection_id;
  if (!r.ok) return "released" in r ? { connection_id: id, released: true } : { connection_id: id, ok: false, error: errorText(r.error) };
  if (!r.value.ok) return { connection_id: id, revoked: true, error: r.value.reason };
  return {
    connection_id: id,
    ok: true,
    access_token: r.value.accessToken,
    expires_at: new Date(now.getTime() + r.value.expiresInSeconds * 1000).toISOString(),
    refresh_token: r.value.refreshToken ?? null,
    scope: r.value.scope ?? null,
  };
}
