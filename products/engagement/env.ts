import { z } from "zod";
import { defineProductEnv } from "@/lib/products";

/** Public test value of the local stack: unsubscribe links are signed with it when UNSUBSCRIBE_SECRET is unset outside production. */
export const LOCAL_UNSUBSCRIBE_SECRET = "local-unsubscribe-secret-not-for-production";

/** Engagement's settings: emails per second (QStash flow control) and the secret of unsubscribe links. */
export const engagementEnv = defineProductEnv(
  "engagement",
  {
    ENGAGEMENT_EMAIL_RATE: z.coerce.number().int().min(1).max(10_000).optional(),
    UNSUBSCRIBE_SECRET: z.string().min(32, "must be at least 32 characters (generate one: openssl rand -hex 32)").optional(),
  },
  (e, mode) => ({
    emailRate: e.ENGAGEMENT_EMAIL_RATE ?? 2,
    /** No secret in production without UNSUBSCRIBE_SECRET: no links, so the sends fail closed. */
    unsubscribeSecret: e.UNSUBSCRIBE_SECRET ?? (mode === "production" ? undefined : LOCAL_UNSUBSCRIBE_SECRET),
  }),
);
