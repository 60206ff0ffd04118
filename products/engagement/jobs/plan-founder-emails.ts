import { founderKey } from "../lib/keys";
import { planFanOut } from "../lib/plan";
import { defineJob } from "@/lib/jobs/define";
import sendFounderEmail from "./send-founder-email";

interface Due {
  learner_id: string;
  step: 1 | 2 | 3;
  signed_up_at: string;
}

/**
 * Daily: learners on day 1, 2 or 3 after sign-up (their calendar) who have not had that step ->
 * one send-founder-email each. Stats count the planned emails per step.
 */
export default defineJob({
  name: "plan-founder-emails",
  description: "Learners on day 1, 2 or 3 after sign-up -> send-founder-email, one message per page of 100",
  timeoutMs: 280_000,
  async handler(ctx) {
    const at = ctx.run.slotAt ?? ctx.now;
    const days = { Day1: 0, Day2: 0, Day3: 0 };
    const r = await planFanOut<Due, { learnerId: string; step: 1 | 2 | 3 }>(
      ctx,
      {
        job: sendFounderEmail,
        due: (after, limit) =>
          ctx.db.rpc<Due[]>("engagement_founder_due", { p_now: at, p_after_signed_up_at: after?.signed_up_at, p_after_id: after?.learner_id, p_limit: limit }),
        item: (d) => ({ learnerId: d.learner_id, step: d.step }),
        key: (i) => founderKey(i.learnerId, i.step),
      },
      (rows) => rows.forEach((d) => days[`Day${d.step}`]++),
    );
    return { ...days, messages: r.messages, deduplicated: r.deduplicated };
  },
});
