import { missingConfig } from "@/lib/providers";
import { defineProductProviders } from "@/lib/products";
import { commerceEnv } from "../env";
import { outboxPayments } from "./outbox";
import { createRazorpayProvider } from "./razorpay";

export type * from "./types";

/** Razorpay, live with its keys, the outbox in local mode, a ConfigError naming the key otherwise. */
export const commerceProviders = defineProductProviders(
  "commerce",
  (kit) => {
    const cfg = commerceEnv.of(kit.env);
    return {
      payments: () => {
        if (cfg.razorpay && !kit.noop) return createRazorpayProvider(cfg.razorpay);
        if (kit.standIn) return outboxPayments(kit.record);
        throw missingConfig("RAZORPAY_KEY_ID", "stale payments are checked with Razorpay (with RAZORPAY_KEY_SECRET)", "the Razorpay Dashboard -> Account & Settings -> API Keys");
      },
    };
  },
  (kit) => ({ razorpay: Boolean(commerceEnv.of(kit.env).razorpay) }),
);
