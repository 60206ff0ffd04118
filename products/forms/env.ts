import { apiKeyOf, apiKeyVariable, type ApiKeySpec } from "@/lib/auth/api-key";
import { optional, url } from "@/lib/env";
import { defineProductEnv } from "@/lib/products";

/** Public value of the local stack and the tests: the forms API's key when FORMS_API_KEY is unset outside production. */
export const LOCAL_FORMS_API_KEY = "local-forms-api-key-not-for-production";
/** The clinic's app holds this key, not CRON_SECRET (which can run every job). */
export const FORMS_API: ApiKeySpec = { variable: "FORMS_API_KEY", api: "the forms API", localValue: LOCAL_FORMS_API_KEY };

/** Forms' settings: the Vapi assistant that places the deadline calls and the number it calls from; the API's key. */
export const formsEnv = defineProductEnv(
  "forms",
  { VAPI_API_KEY: optional, VAPI_ASSISTANT_ID: optional, VAPI_PHONE_NUMBER_ID: optional, VAPI_BASE_URL: url.optional(), FORMS_API_KEY: apiKeyVariable },
  (e, mode) => ({
    vapi:
      e.VAPI_API_KEY && e.VAPI_ASSISTANT_ID && e.VAPI_PHONE_NUMBER_ID
        ? { apiKey: e.VAPI_API_KEY, assistantId: e.VAPI_ASSISTANT_ID, phoneNumberId: e.VAPI_PHONE_NUMBER_ID, baseUrl: e.VAPI_BASE_URL }
        : undefined,
    apiKey: apiKeyOf(FORMS_API, e.FORMS_API_KEY, mode),
  }),
  (e) =>
    e.VAPI_API_KEY && (!e.VAPI_ASSISTANT_ID || !e.VAPI_PHONE_NUMBER_ID)
      ? ["VAPI_API_KEY needs VAPI_ASSISTANT_ID and VAPI_PHONE_NUMBER_ID: the assistant that calls and the number it calls from (Vapi dashboard -> Assistants, Phone Numbers)"]
      : [],
);
