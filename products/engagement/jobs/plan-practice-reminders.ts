import { practiceKey } from "../lib/keys";
import { planFanOut } from "../lib/plan";
import { defineJob } from "@/lib/jobs/define";
import sendPracticeReminder from "./send-practice-reminder";

interface Due {
  learner_id: string;
  time_zone: string;
  local_date: string;
}

/**
 * Hourly: every learner whose local time is in the 09:00 hour, opted in, who has not practised on
 * their today and has no reminder for it -> send-practice-reminder, one message per page of up to
 * 100 learners (one Resend batch each), through QStash with flow control on the email provider. A retried delivery plans for its tick's time (the slot), not
 * for the hour it arrived in, so a late retry never skips the zones its tick was for.
 */
export default defineJob({
  name: "plan-practice-reminders",
  description: "Learners at 09:xx in their zone who have not practised today -> send-practice-reminder, one message per page of 100",
  timeoutMs: 280_000,
  async handler(ctx) {
    const at = ctx.run.slotAt ?? ctx.now;
    const r = await planFanOut<Due, { learnerId: string; localDate: string }>(ctx, {
      job: sendPracticeReminder,
      due: (after, limit) =>
        ctx.db.rpc<Due[]>("engagement_practice_due", { p_now: at, p_after_zone: after?.time_zone, p_after_id: after?.learner_id, p_limit: limit }),
      item: (d) => ({ learnerId: d.learner_id, localDate: d.local_date }),
      key: (i) => practiceKey(i.learnerId, i.localDate),
    });
    return { planned: r.planned, messages: r.messages, deduplicated: r.deduplicated };
  },
});
