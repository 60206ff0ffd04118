import type { DiagnosticsSection } from "@/lib/products";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `GET /api/diagnostics?campaign=<id>|all`: node runs by state, failures by error type, median lag. */
export const campaignStatsSection: DiagnosticsSection = {
  param: "campaign",
  describe: "campaign=<id>|all: node runs by state, failures by error type, median lag",
  async answer(deps, campaign) {
    const all = campaign === "all";
    if (!all && !UUID.test(campaign)) return { status: 400, body: { error: `campaign: "${campaign}" is not a campaign id (a UUID) or "all"` } };
    try {
      return { status: 200, body: { campaigns: await deps.db.rpc("campaign_stats", { p_campaign_id: all ? null : campaign }) } };
    } catch (err) {
      return { status: 503, body: { error: `could not read the campaign stats: ${(err as Error).message}` } };
    }
  },
};
