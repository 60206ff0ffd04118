import type { Component } from "./component";
import { baseOf, probe } from "./vendor";

export const RESEND_API = "https://api.resend.com";

/** Email: reminders, receipts and alerts go out through Resend. */
export const resend: Component = {
  name: "resend",
  async check(ctx) {
    const cfg = ctx.deps.env.resend;
    if (!cfg) return { status: "not_configured", message: "RESEND_API_KEY is not set" };
    return probe(ctx, {
      vendor: "Resend",
      keyVar: "RESEND_API_KEY",
      baseVar: "RESEND_BASE_URL",
      url: `${baseOf(cfg.baseUrl, RESEND_API)}/domains`,
      authorization: `Bearer ${cfg.apiKey}`,
      // A sending-only key (the safer kind for an app) may not list domains, and says so by name.
      accepted: (status, body) =>
        status === 401 && body.name === "restricted_api_key" ? "Resend accepted the key (a sending-only key: it may send, not list domains)" : undefined,
    });
  },
  advice(env) {
    return `Check the network path to ${baseOf(env.resend?.baseUrl, RESEND_API)} (RESEND_BASE_URL).`;
  },
};
