import { bearerMatches } from "../auth/bearer";
import { describeError } from "../errors";
import { json } from "../http/respond";
import { refuseMisconfigured } from "../http/misconfigured";
import type { RunDeps } from "../jobs/run";
import { metricsText } from "./metrics";

/** `GET /api/metrics`: Prometheus text for Bearer CRON_SECRET only (a scrape config's `authorization`). */
export function metricsRoute(getDeps: () => Promise<RunDeps>) {
  async function GET(req: Request): Promise<Response> {
    let deps: RunDeps;
    try {
      deps = await getDeps();
    } catch (err) {
      return refuseMisconfigured(err);
    }
    if (!bearerMatches(req.headers.get("authorization"), deps.env.cronSecret)) {
      return json(401, { error: "send Authorization: Bearer <CRON_SECRET>" }, { "www-authenticate": 'Bearer realm="metrics"' });
    }
    try {
      const m = await metricsText(deps.db, new Set(deps.registry.jobs.keys()));
      return new Response(m.text, { status: 200, headers: { "content-type": m.contentType, "cache-control": "no-store" } });
    } catch (err) {
      deps.log.error("metrics.failed", { error: describeError(err) });
      return json(500, { error: `could not read the ledger: ${(err as Error).message}` });
    }
  }
  return { GET };
}
