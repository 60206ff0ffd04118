import type { Component } from "./component";
import { baseOf, probe } from "./vendor";

export const NOVU_API = "https://api.novu.co";

/** In-app and multi-channel notifications go out through Novu. */
export const novu: Component = {
  name: "novu",
  async check(ctx) {
    const cfg = ctx.deps.env.novu;
    if (!cfg) return { status: "not_configured", message: "NOVU_API_KEY is not set" };
    return probe(ctx, {
      vendor: "Novu",
      keyVar: "NOVU_API_KEY",
      baseVar: "NOVU_BASE_URL",
      url: `${baseOf(cfg.baseUrl, NOVU_API)}/v1/environments/me`,
      authorization: `ApiKey ${cfg.apiKey}`,
    });
  },
  advice(env) {
    return `Check the network path to ${baseOf(env.novu?.baseUrl, NOVU_API)} (NOVU_BASE_URL; EU accounts use https://eu.api.novu.co).`;
  },
};
