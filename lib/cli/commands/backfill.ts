import { BackfillRefusal, planBackfill, type BackfillPlan } from "../../jobs/backfill";
import { describeQStashError } from "../../qstash/client";
import { backfillFlowControl, publishSlotRuns } from "../../qstash/slot-runs";
import type { CliContext } from "../context";
import { EXIT, UsageError } from "../errors";
import { count, when } from "../format";
import { progress } from "../progress";
import { renderTable } from "../table";

export interface BackfillOptions {
  from: string;
  to: string;
  dryRun?: boolean;
  json?: boolean;
  yes?: boolean;
  max?: string;
}

/**
 * `pnpm job:backfill <job> --from <instant> --to <instant> [--dry-run] [--json] [--yes] [--max n]`:
 * one run per slot of the job's schedule in [from, to) that has no succeeded run yet, published
 * to QStash as slot runs (trigger backfill) that run one at a time. The plan comes first; running
 * the same backfill again publishes nothing, and a slot published twice runs once (the ledger's
 * slot key).
 */
export async function backfillCommand(ctx: CliContext, job: string, opts: BackfillOptions): Promise<number> {
  const { io } = ctx;
  const max = opts.max === undefined ? undefined : Number(opts.max);
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) throw new UsageError(`--max must be a whole number of slots, at least 1, got "${opts.max}"`);
  let plan: BackfillPlan;
  try {
    plan = await planBackfill(ctx.deps(), job, { from: opts.from, to: opts.to }, { now: ctx.now(), max, maxHint: "raise the limit with --max" });
  } catch (err) {
    if (err instanceof BackfillRefusal) throw new UsageError(err.message);
    throw err;
  }
  const json = (extra: Record<string, unknown>) => io.out(JSON.stringify({ ...planJson(plan), ...extra }, null, 2));
  if (!opts.json) showPlan(ctx, plan);
  if (opts.dryRun || plan.toRun.length === 0) {
    if (opts.json) json({ status: opts.dryRun ? "dry-run" : "nothing", published: 0 });
    else io.out(plan.toRun.length === 0 ? `Nothing to run: every slot in the range already ran.` : `Dry run: nothing published.`);
    return EXIT.ok;
  }
  if (!opts.yes) {
    if (!io.isTTY) {
      io.err(`error: refusing to publish ${plan.toRun.length} run(s) without confirmation: there is no terminal to ask. Pass --yes (or --dry-run to see the plan).`);
      return EXIT.failed;
    }
    if (!(await io.confirm(`Publish ${plan.toRun.length} run(s) of ${job}?`))) {
      io.err("Nothing published.");
      return EXIT.failed;
    }
  }
  const bar = progress(io, plan.toRun.length, "publishing");
  let published = 0;
  try {
    const r = await publishSlotRuns({ env: ctx.env, registry: ctx.registry, client: ctx.qstash() }, job, plan.toRun, "backfill", {
      onBatch: (n) => {
        published += n;
        for (let i = 0; i < n; i++) bar.tick();
      },
    });
    bar.stop();
    if (opts.json) json({ status: "published", published: r.messageIds.length, deduplicated: r.deduplicated, messageIds: r.messageIds });
    else {
      // A slot QStash already holds (the same backfill, not yet run) is not a new message.
      const waiting = r.deduplicated ? `; ${r.deduplicated} already waiting in QStash from an earlier backfill` : "";
      io.out(`Published ${r.messageIds.length - r.deduplicated} run(s) of ${job}${waiting}; they run one at a time (flow control ${backfillFlowControl(job).key}).`);
      io.out(`Follow them on /ops/jobs/${job}?trigger=backfill; running this again publishes only the slots still without a succeeded run.`);
    }
    return EXIT.ok;
  } catch (err) {
    bar.stop();
    io.err(`error: publishing stopped after ${published} of ${plan.toRun.length} run(s): ${describeQStashError(err, ctx.env.qstash.url)}. Run the same backfill again: published slots are not published twice.`);
    if (opts.json) json({ status: "failed", published });
    return EXIT.failed;
  }
}

function showPlan(ctx: CliContext, plan: BackfillPlan) {
  const { io } = ctx;
  const zone = plan.schedule.timezone;
  const done = plan.slots.length - plan.toRun.length;
  io.out(`Backfill ${plan.job} ("${plan.schedule.expression}" in ${zone}) from ${when(plan.from)} to ${when(plan.to)}: ${count(plan.slots.length)} slot(s), ${count(done)} already ran, ${count(plan.toRun.length)} to run.`);
  if (plan.slots.length === 0) return;
  const rows = plan.slots.map((s, i) => [i + 1, when(s.at), zone === "UTC" ? undefined : when(s.at, zone), s.done ? "already ran" : "to run"]);
  const head = zone === "UTC" ? ["#", "slot (UTC)", "status"] : ["#", "slot (UTC)", `slot (${zone})`, "status"];
  io.out(renderTable(head, zone === "UTC" ? rows.map((r) => [r[0], r[1], r[3]]) : rows, io.columns));
}

function planJson(plan: BackfillPlan) {
  return {
    job: plan.job,
    cron: plan.schedule.cron,
    timezone: plan.schedule.timezone,
    from: plan.from.toISOString(),
    to: plan.to.toISOString(),
    slots: plan.slots.map((s) => ({ slot: s.at.toISOString(), status: s.done ? "already ran" : "to run" })),
    toRun: plan.toRun.length,
  };
}
