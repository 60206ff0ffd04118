import { z } from "zod";
import { practiceReminderEmail } from "../emails/practice-reminder";
import { practiceKey } from "../lib/keys";
import { recipientPage } from "../lib/plan";
import { recipientsOf, sendPage } from "../lib/send";
import { defineJob } from "@/lib/jobs/define";

interface PracticeTarget {
  learner_id: string;
  email: string;
  name: string | null;
  language: string;
  time_zone: string;
  local_date: string;
}

const recipient = z.object({ learnerId: z.uuid(), localDate: z.iso.date() });

/**
 * A page of up to 100 learners' practice reminders (published by plan-practice-reminders), sent as
 * one Resend batch. Checked again at delivery, since flow control may deliver it hours after the
 * plan: still opted in, still that day in their zone, not practised on it, not sent.
 */
export default defineJob({
  name: "send-practice-reminder",
  description: "A page of up to 100 practice reminders, one Resend batch, each if still wanted at delivery",
  payload: recipientPage(recipient),
  timeoutMs: 30_000,
  overlap: "allow",
  handler: (ctx) =>
    sendPage<PracticeTarget>(ctx, {
      kind: "practice-reminder",
      named: ctx.payload.recipients.length,
      targets: () => ctx.db.rpc<PracticeTarget[]>("engagement_practice_targets", { p_items: ctx.payload.recipients, p_now: ctx.now }),
      rebuild: (keys) => recipientsOf<PracticeTarget>(ctx, keys),
      key: (t) => practiceKey(t.learner_id, t.local_date),
      render: (t, unsubscribeUrl) => practiceReminderEmail({ name: t.name, language: t.language, timeZone: t.time_zone, localDate: t.local_date, unsubscribeUrl }),
    }),
});
