import { appointmentReminderEmail } from "@/emails/appointment-reminder";
import { drainClaims, errorText, type ClaimPage, type ItemResult } from "@/lib/jobs/batch";
import type { JobContext, JobStats } from "@/lib/jobs/define";

/** What both reminder jobs share: claim in SQL, email + in-app notice per recipient, finish in SQL. */
export interface ReminderItem {
  key: string;
  appointment_id: string;
  recipient: "client" | "expert";
  starts_at: string;
  ends_at: string;
  to: { id: string; name: string; email: string; time_zone: string };
  with_name: string;
}

export const REMINDER_WORKFLOW = "appointment-reminder";

export async function sendAppointmentReminders(
  ctx: JobContext<unknown>,
  opts: { kind: "24h" | "1h"; windowMs: number; leaseMs: number; pageSize?: number; concurrency?: number },
): Promise<JobStats> {
  const { db, providers, now, run, signal, log } = ctx;
  const email = providers.email();
  const notify = providers.notify();
  const counts = await drainClaims<ReminderItem, void>({
    claim: (cursor) => {
      const after = cursor as { starts_at: string; id: string } | undefined;
      return db.rpc<ClaimPage<ReminderItem>>("appointment_reminders_claim", {
        p_kind: opts.kind,
        p_run_id: run.id,
        p_now: now,
        p_window_ms: opts.windowMs,
        p_lease_ms: opts.leaseMs,
        p_limit: opts.pageSize ?? 250,
        p_after_starts_at: after?.starts_at ?? null,
        p_after_id: after?.id ?? null,
      });
    },
    work: async (r) => {
      const message = appointmentReminderEmail({
        kind: opts.kind,
        recipient: r.recipient,
        name: r.to.name,
        withName: r.with_name,
        startsAt: r.starts_at,
        endsAt: r.ends_at,
        timeZone: r.to.time_zone,
      });
      // One key for both channels: each vendor drops a repeat of it (Resend for 24 h, Novu by transaction id).
      await email.send({ to: r.to.email, ...message, idempotencyKey: r.key, tags: { kind: `reminder-${opts.kind}` } }, signal);
      await notify.trigger(
        {
          workflowId: REMINDER_WORKFLOW,
          subscriber: { id: r.to.id, email: r.to.email, name: r.to.name },
          payload: { appointmentId: r.appointment_id, kind: opts.kind, startsAt: r.starts_at, withName: r.with_name, subject: message.subject },
          transactionId: r.key,
        },
        signal,
      );
    },
    finish: async (results) => {
      await db.rpc("notification_claims_finish", { p_run_id: run.id, p_now: now, p_results: results.map(claimRow) });
    },
    concurrency: opts.concurrency ?? 8,
    signal,
    onError: (r, error) => log.warn("reminder.failed", { key: r.key, error: errorText(error) }),
  });
  return { sent: counts.ok, failed: counts.failed };
}

/** The row notification_claims_finish takes, for any item keyed by `key`. */
export function claimRow<T extends { key: string }>(r: ItemResult<T, unknown>) {
  if (r.ok) return { key: r.item.key, ok: true };
  if ("released" in r) return { key: r.item.key, released: true };
  return { key: r.item.key, ok: false, error: errorText(r.error) };
}
