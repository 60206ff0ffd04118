import { z } from "zod";
import { founderEmail } from "../emails/founder-email";
import { founderKey } from "../lib/keys";
import { sendOnce } from "../lib/send";
import { defineJob } from "@/lib/jobs/define";

interface FounderTarget {
  learner_id: string;
  email: string;
  name: string | null;
  language: string;
  time_zone: string;
  signed_up_at: string;
  step: 1 | 2 | 3;
}

/** One founder email (day 1, 2 or 3 after sign-up) to one learner, at most once ever. */
export default defineJob({
  name: "send-founder-email",
  description: "One founder email (step 1, 2 or 3) to one learner, once ever",
  payload: z.object({ learnerId: z.uuid(), step: z.union([z.literal(1), z.literal(2), z.literal(3)]) }),
  timeoutMs: 30_000,
  overlap: "allow",
  handler: (ctx) =>
    sendOnce<FounderTarget>(ctx, {
      kind: "founder-email",
      target: () => ctx.db.rpc<FounderTarget[]>("engagement_founder_target", { p_learner: ctx.payload.learnerId, p_step: ctx.payload.step }),
      key: (t) => founderKey(t.learner_id, t.step),
      render: (t, unsubscribeUrl) =>
        founderEmail({ step: t.step, name: t.name, language: t.language, timeZone: t.time_zone, signedUpAt: t.signed_up_at, unsubscribeUrl }),
    }),
});
