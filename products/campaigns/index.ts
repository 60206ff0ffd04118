import { defineProduct } from "@/lib/products";
import { CAMPAIGNS_API, campaignsEnv } from "./env";
import { campaignJobs } from "./jobs";
import { campaignStatsSection } from "./http/diagnostics";
import { seed } from "./seed";

/** Multi-step campaigns: each user walks a graph of email, wait and notification nodes, in business hours. */
export default defineProduct({
  name: "campaigns",
  title: "Campaigns",
  summary: "Multi-step campaigns: each user walks email, wait and notification nodes in business hours, each node run once, with timeouts",
  jobs: campaignJobs,
  env: campaignsEnv,
  api: { path: "/api/campaigns", key: CAMPAIGNS_API },
  diagnostics: [campaignStatsSection],
  commands: [
    {
      name: "campaigns:stats",
      description: "Per campaign: node runs by state, failure rate by error type, median lag between planned and actual execution.",
      options: [
        ["--campaign <id>", "only this campaign"],
        ["--json", "machine-readable output"],
      ],
      load: async () => {
        const m = await import("./cli/stats");
        return { run: (ctx, opts) => m.campaignsStatsCommand(ctx, opts as { campaign?: string; json?: boolean }) };
      },
    },
  ],
  seed,
});
