import { describeError } from "@/lib/errors";
import { reconcileDeadLetters } from "@/lib/dead-letters/reconcile";
import { defineJob, type JobContext } from "@/lib/jobs/define";
import type { Schedule } from "@/lib/jobs/schedules";
import { hasFindings, summarize, watch, type WatchedSchedule } from "@/lib/jobs/watchdog";
import { describeQStashError, operatorClient } from "@/lib/qstash/client";
import type { Registry } from "@/lib/jobs/registry";
import { resyncZoned } from "@/lib/qstash/resync-zoned";
import { pruneKeysWithoutTtl } from "@/lib/redis-maintenance";
import { sendAlert } from "./maintenance/alert";
import { whenDatabaseDown } from "./maintenance/database-down";
import { qstashView, type ViewedSchedule } from "./maintenance/qstash-view";
import { parkedMessages } from "./maintenance/parked";
import { dayOfDecisions, sweepSchedules } from "./maintenance/slots";

/** Our Redis keys that must expire: the app's cache and the payment rate limits. */
export const REDIS_PREFIXES = ["cache:", "ratelimit:payment:"];
const TIMEOUT_MS = 120_000;
const DAY_MS = 24 * 3_600_000;

/**
 * The one Vercel-native cron: an independent heartbeat. Database and Redis health, Redis upkeep,
 * the enabled products' upkeep steps (the marketplace's Google Calendar tokens), one-time messages
 * parked past QStash's maximum delay published once in range, dead letters reconciled with QStash's DLQ, and a watchdog over the QStash
 * jobs' last 24 h that sends one alert.
 * Each part runs even when another failed; the run fails at the end if the database or Redis is
 * down or an alert could not go out, so Vercel shows the failure too.
 */
export function createKeepAlive(opts: {
  schedules: () => readonly Schedule[];
  /**
   * The registry whose zoned entries keep-alive re-syncs to QStash and whose products' upkeep steps
   * it runs; none: both are skipped.
   */
  registry?: () => Promise<Registry>;
  redisPrefixes?: readonly string[];
}) {
  return defineJob({
    name: "keep-alive",
    description: "Daily heartbeat: database and Redis health and upkeep, the products' upkeep, watchdog over the QStash jobs",
    timeoutMs: TIMEOUT_MS,
    withoutLedger: async (ctx) => whenDatabaseDown(ctx, opts.redisPrefixes ?? REDIS_PREFIXES, (await opts.registry?.())?.products.flatMap((p) => p.maintenance) ?? []),
    async handler(ctx) {
      const { db, redis, signal, log } = ctx;
      const fatal: unknown[] = [];
      const other: string[] = [];
      const started = Date.now();
      await db.ping();
      const stats: Record<string, unknown> = { database: "ok", databaseMs: Date.now() - started, redis: "not_configured" };
      if (redis) {
        try {
          const pong = await redis.ping();
          stats.redis = pong === "PONG" ? "ok" : `unexpected reply ${String(pong)}`;
          stats.redisPruned = await pruneKeysWithoutTtl(redis, opts.redisPrefixes ?? REDIS_PREFIXES, { signal });
        } catch (err) {
          stats.redis = `error: ${(err as Error).message}`;
          other.push(`Redis: ${(err as Error).message}`);
          fatal.push(err);
        }
      }
      stats.signaturesPruned = (await db.rpc<{ deleted: number }>("used_signatures_prune")).deleted;

      const registry = await opts.registry?.();
      for (const step of registry?.products.flatMap((p) => p.maintenance) ?? []) {
        try {
          const r = await step.run(ctx);
          stats[step.name] = r.stats;
          other.push(...r.problems);
          if (r.fatal) fatal.push(r.fatal);
        } catch (err) {
          // A step answers its own failures; one that throws still leaves the others and the watchdog to run.
          stats[step.name] = { error: describeError(err).message };
          other.push(`${step.name}: ${describeError(err).message}`);
        }
      }

      if (registry) {
        // Before the watchdog reads the schedules: a re-synced zoned entry is in order again.
        const zoned = await resyncZoned(operatorClient(ctx.env), ctx.env, registry, ctx.now);
        stats.zonedSchedules = zoned.status === "resynced" ? { status: zoned.status, changed: zoned.changed } : zoned.status === "failed" ? { status: "failed", errors: zoned.errors } : zoned.status;
        other.push(...zoned.errors.map((e) => `zoned schedules not re-synced, so runs after the next offset change may be missed or doubled: ${e}`));
        stats.parkedMessages = await parkedMessages(ctx, registry, other);
      }
      const watched = await watchedSchedules(ctx, opts.schedules(), registry, stats, other);
      stats.deadLetters = await deadLetters(ctx, other);
      const findings = await watch(db, watched, ctx.now);
      stats.watchdog = summarize(findings);

      if (hasFindings(findings) || other.length) {
        const alert = await sendAlert(ctx, findings, other);
        stats.alert = alert.status;
        if (alert.error) fatal.push(alert.error);
      } else {
        stats.alert = "none";
      }
      if (fatal.length) {
        log.error("keep_alive.failed", { stats });
        throw fatal[0];
      }
      return stats;
    },
  });
}

/**
 * The schedules the digest watches. With the registry, keep-alive first sweeps the whole day as the
 * watchdog does every 10 minutes (so slots are decided even if the watchdog stopped): every slot
 * no delivery reached is then caught up or recorded missed and alerted in its job's incident, and
 * the digest says how many per job instead of listing them again.
 */
async function watchedSchedules(ctx: JobContext<unknown>, all: readonly Schedule[], registry: Registry | undefined, stats: Record<string, unknown>, other: string[]): Promise<WatchedSchedule[]> {
  const watched = (v: ViewedSchedule, swept: boolean): WatchedSchedule => ({
    job: v.schedule.job,
    expression: v.schedule.expression,
    timezone: v.schedule.timezone,
    since: v.since,
    // Missing or paused is one problem, said already, not a list of its slots; swept slots are decided.
    skipSlots: (swept && v.state !== "unknown") || v.state === "missing" || v.state === "paused",
  });
  if (!registry) {
    const view = await qstashView(ctx, all, other);
    stats.qstash = view.status;
    return view.viewed.map((v) => watched(v, false));
  }
  const { stats: swept, viewed } = await sweepSchedules(ctx, registry, other, await sinceLastRun(ctx, other));
  stats.qstash = swept.qstash;
  stats.slots = { ...swept, qstash: undefined };
  other.push(...(await dayOfDecisions(ctx)));
  return viewed.map((v) => watched(v, true));
}

/**
 * How far back the day's sweep goes: to keep-alive's previous success (a day, unless Vercel lost a
 * run, which it never retries), at most a week. A lost run is itself a problem to report.
 */
async function sinceLastRun(ctx: JobContext<unknown>, other: string[]): Promise<number> {
  const slot = ctx.run.slotAt ?? ctx.now;
  const last = await ctx.db.rpc<{ at: string | null }>("job_last_success", { p_job: ctx.run.job, p_before: slot });
  // Never succeeded: back a week, which each schedule's creation in QStash bounds anyway.
  if (!last.at) return 7 * DAY_MS;
  const gap = slot.getTime() - new Date(last.at).getTime();
  if (gap > DAY_MS + 2 * 3_600_000) other.push(`keep-alive did not succeed since ${last.at} (Vercel does not retry a lost run): this run swept the slots since then`);
  return Math.min(7 * DAY_MS, Math.max(DAY_MS, gap));
}

/**
 * QStash's DLQ against the app's dead letters: a dead letter whose failure callback never got
 * through (the database was down for every attempt) is recorded and alerted now, once; an alert
 * that did not reach every channel is sent again (lib/dead-letters/reconcile.ts).
 */
async function deadLetters(ctx: JobContext<unknown>, other: string[]): Promise<unknown> {
  try {
    const r = await reconcileDeadLetters(ctx, operatorClient(ctx.env), ctx.now);
    other.push(...r.errors.map((e) => `dead letter not reconciled, tried again tomorrow: ${e}`));
    if (r.alertsPending) other.push(`${r.alertsPending} dead letter alert(s) still did not reach every channel (see the log, alert.outcome); tried again tomorrow`);
    return r;
  } catch (err) {
    const why = describeQStashError(err, ctx.env.qstash.url);
    other.push(`dead letters not reconciled with QStash's DLQ, so one whose failure callback never reached the app is not alerted: ${why}`);
    return `not reconciled: ${why}`;
  }
}
