import { z } from "zod";
import { defineProductEnv } from "@/lib/products";

/** Campaigns' settings: node executions started per second, all campaigns together (QStash flow control). */
export const campaignsEnv = defineProductEnv("campaigns", { CAMPAIGN_EXECUTION_RATE: z.coerce.number().int().min(1).max(100_000).optional() }, (e) => ({
  executionRate: e.CAMPAIGN_EXECUTION_RATE ?? 1000,
}));
