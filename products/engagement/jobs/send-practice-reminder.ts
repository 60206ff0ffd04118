import { z } from "zod";
import { practiceReminderEmail } from "../emails/practice-reminder";
import { practiceKey } from "../lib/keys";
import { sendOnce } from "../lib/send";
import { defineJob } from "@/lib/jobs/define";

interface PracticeTarget {
  learner_id: string;
  email: string;
  name: string | null;
  language: string;
  time_zone: string;
  local_date: string;
}

/**
 * One learner's practice reminder for one of their days (published by plan-practice-reminders).
 * Checked again at delivery, since flow control may deliver it hours after the plan: still opted
 * in, still that day in their zone, not practised on it, not sent.
 */
export default defineJob({
  name: "send-practice-reminder",
  description: "One practice reminder to one learner, if still wanted at delivery",
  payload: z.object({ learnerId: z.uuid(), localDate: z.iso.date() }),
  timeoutMs: 30_000,
  overlap: "allow",
  handler: (ctx) =>
    sendOnce<PracticeTarget>(ctx, {
      kind: "practice-reminder",
      target: () => ctx.db.rpc<PracticeTarget[]>("engagement_practice_target", { p_learner: ctx.payload.learnerId, p_local_date: ctx.payload.localDate, p_now: ctx.now }),
      key: (t) => practiceKey(t.learner_id, t.local_date),
      render: (t, unsubscribeUrl) => practiceReminderEmail({ name: t.name, language: t.language, timeZone: t.time_zone, localDate: t.local_date, unsubscribeUrl }),
    }),
});
