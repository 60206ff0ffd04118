import { campaignStats } from "../lib/service";
import type { CliContext } from "@/lib/cli/context";
import { EXIT, UsageError } from "@/lib/cli/errors";
import { duration, percent } from "@/lib/cli/format";
import { renderTable } from "@/lib/cli/table";

const STATES = ["PENDING", "RUNNING", "COMPLETED", "FAILED", "TIMEOUT", "CANCELLED"] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `pnpm campaigns:stats [--campaign <id>] [--json]`: node runs by state, failures by error type, median lag. */
export async function campaignsStatsCommand(ctx: CliContext, opts: { campaign?: string; json?: boolean } = {}): Promise<number> {
  if (opts.campaign !== undefined && !UUID.test(opts.campaign)) throw new UsageError(`--campaign must be a campaign id (a UUID), got "${opts.campaign}".`);
  let rows;
  try {
    rows = await campaignStats(ctx.deps(), opts.campaign);
  } catch (err) {
    const e = err as Error;
    ctx.io.err(e.name === "DbError" ? `error: could not read the campaigns: ${e.message}. Is the database up, and DATABASE_URL (or SUPABASE_URL) right?` : `error: ${e.message}`);
    return EXIT.failed;
  }
  const { io } = ctx;
  if (opts.json) {
    io.out(JSON.stringify(rows, null, 2));
    return EXIT.ok;
  }
  if (!rows.length) {
    io.out(opts.campaign ? `No campaign ${opts.campaign}.` : "No campaigns yet.");
    return EXIT.ok;
  }
  const head = ["campaign", "runs", ...STATES.map((s) => s.toLowerCase()), "failures (share of attempts)", "median lag"];
  const body = rows.map((r) => [
    `${r.name}\n${r.campaignId}`,
    r.runs,
    ...STATES.map((s) => r.states[s] ?? 0),
    r.failures.length ? r.failures.map((f) => `${f.type} ${f.count} (${percent(f.rate)})`).join("\n") : "-",
    duration(r.medianLagMs),
  ]);
  io.out(renderTable(head, body, io.columns));
  io.out("Node runs per state; failures: failed attempts by error type over all attempts; lag: actual start - planned run_at (first attempt).");
  return EXIT.ok;
}
