import { appointmentReminderEmail } from "../../emails/appointment-reminder";
import type { JobContext, JobStats } from "@/lib/jobs/define";
import { runEffects } from "@/lib/jobs/effects";

/** One reminder to one person: what both reminder jobs send, per appointment and recipient. */
export interface ReminderItem {
  appointment_id: string;
  recipient: "client" | "expert";
  starts_at: string;
  ends_at: string;
  to: { id: string; name: string; email: string; time_zone: string };
  with_name: string;
}

export const REMINDER_WORKFLOW = "appointment-reminder";

/**
 * Pages of 2,000 reminders (1,000 appointments), 8 in flight, the next page claimed while one is
 * sent: on 100,000 appointments 400 -> 1,000 -> 2,000 took the job from 17-18 s to 13.6-14.4 s
 * to 12.5-13 s, and 4,000 gained nothing (bench/README.md): a page's database calls and commits
 * cost about as much as a few hundred of its rows. A page is one due query, one claim, one settle.
 */
export const REMINDER_PAGE_SIZE = 2_000;
const CONCURRENCY = 8;

export async function sendAppointmentReminders(
  ctx: JobContext<unknown>,
  opts: { kind: "24h" | "1h"; windowMs: number; pageSize?: number; concurrency?: number },
): Promise<JobStats> {
  const { db, providers, now, signal } = ctx;
  const email = providers.email();
  const notify = providers.notify();
  const counts = await runEffects<ReminderItem, { email: string }>(ctx, {
    due: ({ after, limit }) =>
      db.rpc<ReminderItem[]>("appointment_reminders_due", {
        p_now: now,
        p_window_ms: opts.windowMs,
        p_after_starts_at: after?.starts_at,
        p_after_id: after?.appointment_id,
        p_after_recipient: after?.recipient,
        p_limit: limit,
      }),
    key: (r) => `reminder:${opts.kind}:${r.appointment_id}:${r.recipient}`,
    onUnknown: "retry-with-key", // Resend and Novu keep the first request per key
    subject: (r) => r.appointment_id,
    work: async (r, effect) => {
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
      const sent = await email.send({ to: r.to.email, ...message, idempotencyKey: effect.key, tags: { kind: `reminder-${opts.kind}` } }, signal);
      await notify.trigger(
        {
          workflowId: REMINDER_WORKFLOW,
          subscriber: { id: r.to.id, email: r.to.email, name: r.to.name },
          payload: { appointmentId: r.appointment_id, kind: opts.kind, startsAt: r.starts_at, withName: r.with_name, subject: message.subject },
          transactionId: effect.key,
        },
        signal,
      );
      return { email: sent.id };
    },
    pageSize: opts.pageSize ?? REMINDER_PAGE_SIZE,
    concurrency: opts.concurrency ?? CONCURRENCY,
    // The due query pages by (starts_at, id, recipient) alone, and a lost send is retried by its key.
    lookahead: true,
  });
  return notificationStats(counts);
}

/** What a notification job reports: sent, and failed in this run (retried later, or abandoned), of which abandoned. */
export function notificationStats(counts: { succeeded: number; failed: number; unknown: number; abandoned: number; skipped: number }) {
  return { sent: counts.succeeded, failed: counts.failed + counts.unknown + counts.abandoned, abandoned: counts.abandoned, skipped: counts.skipped };
}
