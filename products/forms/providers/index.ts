import { missingConfig } from "@/lib/providers";
import { defineProductProviders } from "@/lib/products";
import { formsEnv } from "../env";
import { outboxVoice } from "./outbox";
import { createVapiProvider } from "./vapi";

export type * from "./types";

/** Vapi, live with its key, the outbox in local mode (who would have been called, and when), a ConfigError otherwise. */
export const formsProviders = defineProductProviders(
  "forms",
  (kit) => {
    const cfg = formsEnv.of(kit.env);
    return {
      voice: () => {
        if (cfg.vapi && !kit.noop) return createVapiProvider(cfg.vapi);
        if (kit.standIn) return outboxVoice(kit.record);
        throw missingConfig("VAPI_API_KEY", "the deadline calls of forms go through Vapi (with VAPI_ASSISTANT_ID and VAPI_PHONE_NUMBER_ID)", "the Vapi dashboard -> API Keys (the private key)");
      },
    };
  },
  (kit) => ({ vapi: Boolean(formsEnv.of(kit.env).vapi) }),
);
