import { z } from "zod";
import { apiKeyOf, apiKeyVariable, type ApiKeySpec } from "@/lib/auth/api-key";
import { isZone, optional, url } from "@/lib/env";
import { defineProductEnv } from "@/lib/products";

/** Public test value of the local stack: the webhook's secret when RAZORPAY_WEBHOOK_SECRET is unset in local mode. */
export const LOCAL_RAZORPAY_WEBHOOK_SECRET = "local-razorpay-webhook-secret-not-for-production";
/** Public value of the local stack and the tests: the shop's key for its order-status route when COMMERCE_API_KEY is unset outside production. */
export const LOCAL_COMMERCE_API_KEY = "local-commerce-api-key-not-for-production";
/** The shop's app holds this key, not CRON_SECRET (which can run every job). */
export const COMMERCE_API: ApiKeySpec = { variable: "COMMERCE_API_KEY", api: "the shop's order-status API", localValue: LOCAL_COMMERCE_API_KEY };
/** Public test value of the local stack: the courier webhook's secret when COURIER_WEBHOOK_SECRET is unset in local mode. */
export const LOCAL_COURIER_WEBHOOK_SECRET = "local-courier-webhook-secret-not-for-production";
/** Business days from confirmation to the estimated delivery when DELIVERY_BUSINESS_DAYS is unset. */
export const DEFAULT_DELIVERY_BUSINESS_DAYS = 5;
/** The shop's zone when STORE_TIME_ZONE is unset (its schedules use the same). */
export const DEFAULT_STORE_TIME_ZONE = "Asia/Kolkata";

/**
 * The shop's settings: Razorpay (payments read with key id and secret; webhooks signed), its zone,
 * the key of its order-status route, the courier webhook's secret, the delivery estimate.
 */
export const commerceEnv = defineProductEnv(
  "commerce",
  {
    RAZORPAY_KEY_ID: optional,
    RAZORPAY_KEY_SECRET: optional,
    RAZORPAY_BASE_URL: url.optional(),
    RAZORPAY_WEBHOOK_SECRET: optional,
    COMMERCE_API_KEY: apiKeyVariable,
    COURIER_WEBHOOK_SECRET: optional,
    DELIVERY_BUSINESS_DAYS: z.coerce.number().int().min(0).max(60).optional(),
    STORE_TIME_ZONE: z.string().trim().refine(isZone, "must be an IANA time zone such as Asia/Kolkata or Europe/London").optional(),
  },
  (e, mode) => ({
    razorpay:
      e.RAZORPAY_KEY_ID && e.RAZORPAY_KEY_SECRET
        ? { keyId: e.RAZORPAY_KEY_ID, keySecret: e.RAZORPAY_KEY_SECRET, baseUrl: (e.RAZORPAY_BASE_URL ?? "https://api.razorpay.com").replace(/\/+$/, "") }
        : undefined,
    storeTimeZone: e.STORE_TIME_ZONE ?? DEFAULT_STORE_TIME_ZONE,
    /** None outside local mode when unset: the webhook refuses. */
    razorpayWebhookSecret: e.RAZORPAY_WEBHOOK_SECRET ?? (mode === "local" ? LOCAL_RAZORPAY_WEBHOOK_SECRET : undefined),
    /** POST /api/commerce/orders/:id/status: the same key rules as the forms and campaigns APIs. */
    apiKey: apiKeyOf(COMMERCE_API, e.COMMERCE_API_KEY, mode),
    /** None outside local mode when unset: the courier webhook refuses. */
    courierWebhookSecret: e.COURIER_WEBHOOK_SECRET ?? (mode === "local" ? LOCAL_COURIER_WEBHOOK_SECRET : undefined),
    deliveryBusinessDays: e.DELIVERY_BUSINESS_DAYS ?? DEFAULT_DELIVERY_BUSINESS_DAYS,
  }),
  (e) =>
    Boolean(e.RAZORPAY_KEY_ID) !== Boolean(e.RAZORPAY_KEY_SECRET)
      ? ["RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET go together: set both or neither (Razorpay Dashboard -> Account & Settings -> API Keys)"]
      : [],
);
