import { z } from "zod";
import { apiKeyOf, apiKeyVariable, type ApiKeySpec } from "@/lib/auth/api-key";
import { defineProductEnv } from "@/lib/products";

/** Public value of the local stack and the tests: the campaigns API's key when CAMPAIGNS_API_KEY is unset outside production. */
export const LOCAL_CAMPAIGNS_API_KEY = "local-campaigns-api-key-not-for-production";
/** The app that plans campaigns holds this key, not CRON_SECRET (which can run every job). */
export const CAMPAIGNS_API: ApiKeySpec = { variable: "CAMPAIGNS_API_KEY", api: "the campaigns API", localValue: LOCAL_CAMPAIGNS_API_KEY };

/** Campaigns' settings: node executions started per second, all campaigns together (QStash flow control); the API's key. */
export const campaignsEnv = defineProductEnv(
  "campaigns",
  { CAMPAIGN_EXECUTION_RATE: z.coerce.number().int().min(1).max(100_000).optional(), CAMPAIGNS_API_KEY: apiKeyVariable },
  (e, mode) => ({
    executionRate: e.CAMPAIGN_EXECUTION_RATE ?? 1000,
    apiKey: apiKeyOf(CAMPAIGNS_API, e.CAMPAIGNS_API_KEY, mode),
  }),
);
