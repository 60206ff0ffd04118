import { z } from "zod";
import { founderEmail } from "../emails/founder-email";
import { founderKey } from "../lib/keys";
import { recipientPage } from "../lib/plan";
import { recipientsOf, sendPage } from "../lib/send";
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

const recipient = z.object({ learnerId: z.uuid(), step: z.union([z.literal(1), z.literal(2), z.literal(3)]) });

/** A page of up to 100 founder emails (day 1, 2 or 3 after sign-up), one Resend batch, each at most once ever. */
export default defineJob({
  name: "send-founder-email",
  description: "A page of up to 100 founder emails (step 1, 2 or 3), one Resend batch, each once ever",
  payload: recipientPage(recipient),
  timeoutMs: 30_000,
  overlap: "allow",
  handler: (ctx) =>
    sendPage<FounderTarget>(ctx, {
      kind: "founder-email",
      named: ctx.payload.recipients.length,
      targets: () => ctx.db.rpc<FounderTarget[]>("engagement_founder_targets", { p_items: ctx.payload.recipients }),
      rebuild: (keys) => recipientsOf<FounderTarget>(ctx, keys),
      key: (t) => founderKey(t.learner_id, t.step),
      render: (t, unsubscribeUrl) =>
        founderEmail({ step: t.step, name: t.name, language: t.language, timeZone: t.time_zone, signedUpAt: t.signed_up_at, unsubscribeUrl }),
    }),
});
