import type { Db } from "../db/types";
import type { Env } from "../env";
import { missingConfig } from "./errors";
import { createGoogleProvider } from "../../products/marketplace/providers/google";
import { createNovuProvider } from "./novu";
import { createRazorpayProvider } from "../../products/commerce/providers/razorpay";
import { noopRecorder, outboxEmail, outboxGoogle, outboxNotify, outboxRecorder, outboxSlack, outboxPayments, outboxStripe, outboxVoice } from "./outbox";
import { createResendProvider } from "./resend";
import { createSlackProvider } from "./slack";
import { createStripeProvider } from "../../products/marketplace/providers/stripe";
import { createVapiProvider } from "../../products/forms/providers/vapi";
import type { ProviderMode, ProviderName, Providers } from "./types";

export type * from "./types";

export interface ProviderOptions {
  /**
   * Where a provider without a key sends. Default: the outbox table in local mode; outside local
   * mode a missing key is a ConfigError. `noop` (benchmarks) drops everything, keys or not.
   */
  sink?: "outbox" | "noop";
}

/**
 * The providers of one deployment. Each is built on first use, so a job that never sends email
 * never needs RESEND_API_KEY, and a missing key fails only the job that needs it, naming it.
 */
export function createProviders(env: Env, db: Db, opts: ProviderOptions = {}): Providers {
  const local = env.mode === "local";
  const noop = opts.sink === "noop";
  const record = noop ? noopRecorder : outboxRecorder(db);
  const standIn = noop || local;
  const once = <T>(make: () => T) => {
    let v: { value: T } | undefined;
    return () => (v ??= { value: make() }).value;
  };

  const stripe = once(() => {
    if (env.stripe && !noop) return createStripeProvider(env.stripe);
    if (standIn) return outboxStripe(record);
    throw missingConfig("STRIPE_SECRET_KEY", "transfers and payouts go through Stripe", "the Stripe Dashboard -> Developers -> API keys (a restricted key with Transfers and Payouts write)");
  });
  const email = once(() => {
    const from = env.emailFrom;
    if (env.resend && !noop) {
      if (!from) throw missingConfig("EMAIL_FROM", "every email needs a sender, e.g. Bookings <bookings@example.com>", "a domain verified in Resend");
      return createResendProvider(env.resend, from);
    }
    if (standIn) return outboxEmail(record, from ?? "cronlayer <jobs@localhost>");
    throw missingConfig("RESEND_API_KEY", "emails go through Resend", "the Resend dashboard -> API Keys (sending access is enough)");
  });
  const notify = once(() => {
    if (env.novu && !noop) return createNovuProvider(env.novu);
    if (standIn) return outboxNotify(record);
    throw missingConfig("NOVU_API_KEY", "in-app notifications go through Novu", "the Novu dashboard -> API Keys");
  });
  const google = once(() => {
    if (env.google && !noop) return createGoogleProvider(env.google);
    if (standIn) return outboxGoogle(record);
    throw missingConfig("GOOGLE_CLIENT_ID", "Google Calendar tokens are refreshed with the app's OAuth client (and GOOGLE_CLIENT_SECRET)", "Google Cloud console -> APIs & Services -> Credentials");
  });
  const slack = once(() => {
    if (env.slack && !noop) return createSlackProvider(env.slack);
    return standIn ? outboxSlack(record) : undefined;
  });
  const voice = once(() => {
    if (env.vapi && !noop) return createVapiProvider(env.vapi);
    if (standIn) return outboxVoice(record);
    throw missingConfig("VAPI_API_KEY", "the deadline calls of forms go through Vapi (with VAPI_ASSISTANT_ID and VAPI_PHONE_NUMBER_ID)", "the Vapi dashboard -> API Keys (the private key)");
  });

  const payments = once(() => {
    if (env.razorpay && !noop) return createRazorpayProvider(env.razorpay);
    if (standIn) return outboxPayments(record);
    throw missingConfig("RAZORPAY_KEY_ID", "stale payments are checked with Razorpay (with RAZORPAY_KEY_SECRET)", "the Razorpay Dashboard -> Account & Settings -> API Keys");
  });

  const modeOf = (configured: boolean): ProviderMode => (noop ? "noop" : configured ? "live" : local ? "outbox" : "missing");
  return {
    stripe,
    email,
    notify,
    google,
    slack,
    voice,
    payments,
    modes: (): Record<ProviderName, ProviderMode> => ({
      stripe: modeOf(Boolean(env.stripe)),
      resend: modeOf(Boolean(env.resend)),
      novu: modeOf(Boolean(env.novu)),
      google: modeOf(Boolean(env.google)),
      slack: modeOf(Boolean(env.slack)),
      vapi: modeOf(Boolean(env.vapi)),
      razorpay: modeOf(Boolean(env.razorpay)),
    }),
  };
}
