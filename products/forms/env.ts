import { optional, url } from "@/lib/env";
import { defineProductEnv } from "@/lib/products";

/** Forms' settings: the Vapi assistant that places the deadline calls and the number it calls from. */
export const formsEnv = defineProductEnv(
  "forms",
  { VAPI_API_KEY: optional, VAPI_ASSISTANT_ID: optional, VAPI_PHONE_NUMBER_ID: optional, VAPI_BASE_URL: url.optional() },
  (e) => ({
    vapi:
      e.VAPI_API_KEY && e.VAPI_ASSISTANT_ID && e.VAPI_PHONE_NUMBER_ID
        ? { apiKey: e.VAPI_API_KEY, assistantId: e.VAPI_ASSISTANT_ID, phoneNumberId: e.VAPI_PHONE_NUMBER_ID, baseUrl: e.VAPI_BASE_URL }
        : undefined,
  }),
  (e) =>
    e.VAPI_API_KEY && (!e.VAPI_ASSISTANT_ID || !e.VAPI_PHONE_NUMBER_ID)
      ? ["VAPI_API_KEY needs VAPI_ASSISTANT_ID and VAPI_PHONE_NUMBER_ID: the assistant that calls and the number it calls from (Vapi dashboard -> Assistants, Phone Numbers)"]
      : [],
);
