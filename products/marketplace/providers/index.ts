import { missingConfig } from "@/lib/providers";
import { defineProductProviders } from "@/lib/products";
import { marketplaceEnv } from "../env";
import { createGoogleProvider } from "./google";
import { outboxGoogle, outboxStripe } from "./outbox";
import { createStripeProvider } from "./stripe";

export type * from "./types";

/** Stripe and Google, live with their keys, the outbox in local mode, a ConfigError naming the key otherwise. */
export const marketplaceProviders = defineProductProviders(
  "marketplace",
  (kit) => {
    const cfg = marketplaceEnv.of(kit.env);
    return {
      stripe: () => {
        if (cfg.stripe && !kit.noop) return createStripeProvider(cfg.stripe);
        if (kit.standIn) return outboxStripe(kit.record);
        throw missingConfig("STRIPE_SECRET_KEY", "transfers and payouts go through Stripe", "the Stripe Dashboard -> Developers -> API keys (a restricted key with Transfers and Payouts write)");
      },
      google: () => {
        if (cfg.google && !kit.noop) return createGoogleProvider(cfg.google);
        if (kit.standIn) return outboxGoogle(kit.record);
        throw missingConfig("GOOGLE_CLIENT_ID", "Google Calendar tokens are refreshed with the app's OAuth client (and GOOGLE_CLIENT_SECRET)", "Google Cloud console -> APIs & Services -> Credentials");
      },
    };
  },
  (kit) => {
    const cfg = marketplaceEnv.of(kit.env);
    return { stripe: Boolean(cfg.stripe), google: Boolean(cfg.google) };
  },
);
