import { describeError } from "../../errors";
import { parsePayload } from "../../http/payload";
import type { JobDefinition } from "../../jobs/define";
import type { Registry } from "../../jobs/registry";
import { effectSummary, type EffectSummary } from "../../jobs/effect-summary";
import { runJob } from "../../jobs/run";
import type { Db } from "../../db/types";
import { createProviders } from "../../providers";
import { describeOutboxEntry, recentOutbox } from "../../providers/outbox";
import type { CliContext } from "../context";
import { describeEffects } from "../effects";
import { fanOutMode, runInProcess, timeoutOf, withTimeout } from "../in-process";
import { EXIT, UsageError } from "../errors";
import { duration, statsLine } from "../format";

/** The job by name, or a usage error that lists the names. */
export function jobOrUsage(registry: Registry, name: string): JobDefinition {
  const job = registry.get(name);
  if (!job) throw new UsageError(`unknown job "${name}". Jobs: ${[...registry.jobs.keys()].sort().join(", ")}.`);
  return job;
}

/** `--payload '<json>'` parsed with the job's schema; a mistake names the field (exit 2). */
export function payloadOrUsage(job: JobDefinition, text: string | undefined): unknown {
  const parsed = parsePayload(job.payload, text ?? "");
  if (!parsed.ok) throw new UsageError(`--payload for ${job.name}: ${parsed.error.replace(/^invalid payload: /, "")}`);
  return parsed.value;
}

/**
 * `pnpm job:run <job> [--payload '<json>'] [--in-process] [--dry-run] [--json]`: the job in this
 * process, through the same runJob as the routes (same context, same ledger; trigger `cli`). Exit 0
 * when it succeeded or was skipped (another run holds the lease), 1 when it failed. In-process, what
 * the job fans out runs here too (lib/qstash/inline.ts) instead of being published to QStash.
 */
export async function jobRunCommand(ctx: CliContext, name: string, opts: { payload?: string; dryRun?: boolean; json?: boolean; inProcess?: boolean; timeout?: string } = {}): Promise<number> {
  const job = jobOrUsage(ctx.registry, name);
  const payload = payloadOrUsage(job, opts.payload);
  const timeoutMs = timeoutOf(opts.timeout);
  const settings = { ...ctx.registry.settingsOf(name), ...(timeoutMs ? { timeoutMs } : {}) };
  const schedule = ctx.registry.scheduleOf(name);
  const fanOut = fanOutMode(ctx.env, opts.inProcess);
  const { io } = ctx;
  if (opts.dryRun) {
    const plan = { job: name, description: job.description, payload, trigger: "cli", timeoutMs: settings.timeoutMs, overlap: settings.overlap, schedule: schedule?.cron ?? null, fanOut };
    if (opts.json) io.out(JSON.stringify({ dryRun: true, ...plan }, null, 2));
    else {
      io.out(`would run ${name}: ${job.description}`);
      io.out(`  payload   ${JSON.stringify(payload)}`);
      io.out(`  timeout   ${duration(settings.timeoutMs)}, overlap ${settings.overlap}${schedule ? `, scheduled ${schedule.cron}` : ""}`);
      io.out(`  fan-out   ${fanOut === "inline" ? "in this process (each item a run here, at its flow control)" : "published to QStash"}`);
      io.out(`  ledger    a run with trigger cli in job_runs on ${ctx.env.database.kind === "postgres" ? "DATABASE_URL" : "Supabase"}`);
      io.out("Dry run: no run was opened.");
    }
    return EXIT.ok;
  }
  const started = Date.now();
  const recorded = new Set<string>();
  let outcome: Awaited<ReturnType<typeof runJob>>;
  try {
    const deps = withTimeout(watchOutbox(ctx, recorded), name, timeoutMs);
    const open = (d: typeof deps) => runJob({ job: name, payload, trigger: "cli" }, d);
    outcome = await (fanOut === "inline" ? runInProcess(deps, settings.timeoutMs, open) : open(deps));
  } catch (err) {
    // Nothing ran: the ledger could not be reached (runJob records handler failures itself).
    io.err(`error: could not open a run of ${name}: ${(err as Error).message}. Is the database up, and DATABASE_URL (or SUPABASE_URL) right?`);
    return EXIT.failed;
  }
  const effects = await effectsOf(ctx, name);
  const code = report(ctx, name, outcome, duration(Date.now() - started), opts.json ?? false, effects);
  if (!opts.json) {
    for (const line of effects ? describeEffects(effects) : []) ctx.io.out(line);
    await showOutbox(ctx, new Date(started - 1000), recorded);
  }
  return code;
}

/** The job's effects by status after the run (none for a job without effects); a failure to read them is a note. */
async function effectsOf(ctx: CliContext, name: string): Promise<EffectSummary | undefined> {
  try {
    const s = await effectSummary(ctx.deps().db, name);
    return Object.keys(s.counts).length ? s : undefined;
  } catch (err) {
    ctx.io.err(`note: could not read the effects of ${name}: ${(err as Error).message}`);
    return undefined;
  }
}

function report(ctx: CliContext, name: string, outcome: Awaited<ReturnType<typeof runJob>>, took: string, json: boolean, effects: EffectSummary | undefined): number {
  const { io } = ctx;
  const opts = { json };
  const settings = ctx.registry.settingsOf(name);
  switch (outcome.status) {
    case "succeeded":
      if (opts.json) io.out(JSON.stringify({ job: name, runId: outcome.runId, status: outcome.status, stats: outcome.stats, effects }, null, 2));
      else io.out(`${name} succeeded in ${took} (run ${outcome.runId}): ${statsLine(outcome.stats)}`);
      return EXIT.ok;
    case "failed": {
      const error = describeError(outcome.error);
      if (opts.json) io.out(JSON.stringify({ job: name, runId: outcome.runId, status: outcome.status, error, effects }, null, 2));
      io.err(`error: ${name} failed after ${took} (run ${outcome.runId}): ${error.name}: ${error.message}${error.cause ? ` (cause: ${error.cause})` : ""}`);
      return EXIT.failed;
    }
    case "skipped":
      if (opts.json) io.out(JSON.stringify({ job: name, runId: outcome.runId, status: outcome.status }, null, 2));
      else io.out(`${name} skipped (run ${outcome.runId}): another run of it holds the lease (overlap: ${settings.overlap}); nothing was done.`);
      return EXIT.ok;
    default:
      // duplicate / in flight / replay need a message id or a signature, which a CLI run never has.
      io.err(`error: unexpected outcome ${outcome.status} for a CLI run of ${name}`);
      return EXIT.failed;
  }
}

/**
 * The run's dependencies, with providers whose outbox records are noted in `recorded` (provider and
 * key): other jobs of a running stack write to the same table at the same time, and only this run's
 * entries are its answer. Outside local mode nothing is recorded, and the deps are left as they are.
 */
function watchOutbox(ctx: CliContext, recorded: Set<string>) {
  const deps = ctx.deps();
  if (ctx.env.mode !== "local") return deps;
  const db: Db = {
    kind: deps.db.kind,
    ping: () => deps.db.ping(),
    close: () => deps.db.close(),
    rpc: (fn, args, opts) => {
      if (fn === "provider_outbox_record") recorded.add(`${String(args?.p_provider)}\u0000${String(args?.p_key)}`);
      return deps.db.rpc(fn, args, opts);
    },
  };
  return { ...deps, providers: createProviders(ctx.env, db) };
}

/**
 * Locally, providers without keys record to the outbox instead of sending: show what this run
 * would have sent, so `pnpm job:run` answers "what did it do?" without an account anywhere.
 */
async function showOutbox(ctx: CliContext, since: Date, recorded: Set<string>): Promise<void> {
  if (ctx.env.mode !== "local" || recorded.size === 0) return;
  try {
    // `since` only narrows the read; what this run recorded is the filter.
    const entries = (await recentOutbox(ctx.deps().db, { since, limit: 1000 })).filter((e) => recorded.has(`${e.provider}\u0000${e.key}`)).slice(0, 20);
    if (entries.length === 0) return;
    ctx.io.out(`outbox (local mode: recorded, not sent), ${entries.length === 20 ? "latest 20" : entries.length}:`);
    for (const e of entries.reverse()) ctx.io.out(`  ${describeOutboxEntry(e)}`);
  } catch (err) {
    ctx.io.err(`note: could not read provider_outbox: ${(err as Error).message}`);
  }
}
