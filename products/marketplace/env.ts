import { z } from "zod";
import { optional, url } from "@/lib/env";
import { defineProductEnv } from "@/lib/products";

/** The marketplace's settings: Stripe (transfers, payouts), Google OAuth (calendar tokens), money rules. */
export const marketplaceEnv = defineProductEnv(
  "marketplace",
  {
    STRIPE_SECRET_KEY: optional,
    STRIPE_API_BASE: url.optional(),
    GOOGLE_CLIENT_ID: optional,
    GOOGLE_CLIENT_SECRET: optional,
    GOOGLE_TOKEN_URL: url.optional(),
    TRANSFER_HOLD_DAYS: z.coerce.number().int().min(0).max(90).optional(),
    MIN_PAYOUT_AMOUNT: z.coerce.number().int().min(1).optional(),
    AUDIT_LOG_RETENTION_DAYS: z.coerce.number().int().min(1).optional(),
  },
  (e) => ({
    /** `apiBase` points the Stripe SDK elsewhere (stripe-mock, a local stand-in); unset: api.stripe.com. */
    stripe: e.STRIPE_SECRET_KEY ? { secretKey: e.STRIPE_SECRET_KEY, apiBase: e.STRIPE_API_BASE } : undefined,
    google:
      e.GOOGLE_CLIENT_ID && e.GOOGLE_CLIENT_SECRET
        ? { clientId: e.GOOGLE_CLIENT_ID, clientSecret: e.GOOGLE_CLIENT_SECRET, tokenUrl: e.GOOGLE_TOKEN_URL ?? "https://oauth2.googleapis.com/token" }
        : undefined,
    transferHoldDays: e.TRANSFER_HOLD_DAYS ?? 7,
    minPayoutAmount: e.MIN_PAYOUT_AMOUNT ?? 5000,
    auditLogRetentionDays: e.AUDIT_LOG_RETENTION_DAYS ?? 90,
  }),
  (e) =>
    Boolean(e.GOOGLE_CLIENT_ID) !== Boolean(e.GOOGLE_CLIENT_SECRET)
      ? ["GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET go together: set both or neither (Google Cloud console -> APIs & Services -> Credentials)"]
      : [],
);
