import { isLocalQStash } from "../../qstash/destinations";
import type { PlanName } from "../../qstash/limits";
import type { DesiredSchedule } from "../../qstash/desired";
import { changesOf, countOf, type Plan, type PlanItem } from "../../qstash/plan";
import { applyPlan, prepareSync, verifySync } from "../../qstash/sync";
import type { CliContext } from "../context";
import { EXIT } from "../errors";
import { count } from "../format";
import { progress } from "../progress";
import { renderTable } from "../table";

export interface ScheduleOptions {
  dryRun?: boolean;
  check?: boolean;
  json?: boolean;
  plan?: PlanName;
}

/** `pnpm qstash:schedule`: plan, warn, apply, verify. Returns the exit code. */
export async function scheduleCommand(ctx: CliContext, opts: ScheduleOptions = {}): Promise<number> {
  const { env, io } = ctx;
  const client = ctx.qstash();
  const where = `QStash ${env.qstash.url} (${isLocalQStash(env.qstash.url) ? "local" : "cloud"}), prefix "${env.schedulePrefix}", APP_URL ${env.appUrl}`;
  const prep = await prepareSync(client, env, ctx.registry, { plan: opts.plan, now: ctx.now() });
  if (!prep.ok) {
    const lines = prep.error ? [prep.error] : prep.refusals;
    if (opts.json) io.out(JSON.stringify({ status: prep.error ? "error" : "refused", errors: lines }, null, 2));
    for (const l of lines) io.err(`error: ${l}`);
    if (!prep.error) io.err("Nothing was sent to QStash.");
    return EXIT.failed;
  }
  const { plan, limits } = prep;
  const pending = changesOf(plan);
  for (const w of [...plan.warnings, ...limits.warnings]) io.err(`warning: ${w}`);
  for (const k of plan.kept) io.err(`note: ${k.current.scheduleId} ${k.reason}`);
  const json = { qstash: env.qstash.url, prefix: env.schedulePrefix, appUrl: env.appUrl, plan: planJson(plan), limits, zoned: zonedNotes(plan, prep.desired).map(({ line: _line, ...z }) => z) };

  const zoned = zonedNotes(plan, prep.desired);
  if (!opts.json) {
    io.out(where);
    io.out(renderTable(["action", "schedule", "what"], plan.items.map(planRow), io.columns));
    for (const z of zoned) io.out(z.line);
    io.out(summary(plan));
    io.out(
      `Estimated load: ${limits.schedules} schedule${limits.schedules === 1 ? "" : "s"} in the account, about ${count(limits.messagesPerDay)} messages/day ` +
        `(first attempts over the next 24 h; retries and one-time messages come on top).`,
    );
  }
  if (pending.length === 0) {
    if (opts.json) io.out(JSON.stringify({ status: "in-sync", ...json }, null, 2));
    else io.out(`No changes: QStash already matches config/qstash.ts (${countOf(plan, "unchanged")} schedules).`);
    return EXIT.ok;
  }
  if (opts.check || opts.dryRun) {
    if (opts.json) io.out(JSON.stringify({ status: "pending", ...json }, null, 2));
    else io.out(opts.check ? `${pending.length} change(s) pending: run pnpm qstash:schedule to apply them.` : "Dry run: nothing was applied.");
    return opts.check ? EXIT.changes : EXIT.ok;
  }

  const bar = progress(io, pending.length, "applying");
  const applied = await applyPlan(client, env, plan, (a) => {
    bar.tick(a.item.scheduleId);
    if (!opts.json) io.out(a.ok ? `${past[a.item.action]} ${a.item.scheduleId}` : `FAILED to ${a.item.action} ${a.item.scheduleId}: ${a.error}`);
  });
  bar.stop();
  const failed = applied.filter((a) => !a.ok);
  const verify = await verifySync(client, env, prep.desired);
  const left = verify.ok ? changesOf(verify.plan) : [];
  const ok = failed.length === 0 && verify.ok && left.length === 0;
  if (opts.json) {
    const appliedJson = applied.map((a) => ({ action: a.item.action, scheduleId: a.item.scheduleId, ok: a.ok, error: a.error }));
    io.out(JSON.stringify({ status: ok ? "applied" : "failed", ...json, applied: appliedJson, verified: ok }, null, 2));
  }
  if (!verify.ok) io.err(`error: ${verify.error}`);
  for (const i of left) io.err(`error: verification failed: ${i.scheduleId} still needs ${i.action} after applying.`);
  if (failed.length) io.err(`error: ${failed.length} of ${applied.length} change(s) failed; run pnpm qstash:schedule again once the cause is fixed.`);
  if (ok && !opts.json) io.out(`Verified: QStash now matches config/qstash.ts (${prep.desired.length} schedules).`);
  return ok ? EXIT.ok : EXIT.failed;
}

const past = { create: "created", update: "updated", delete: "deleted", unchanged: "kept" } as const;

const partOf = (d: DesiredSchedule) => (d.zoned ? ` (UTC, ${d.zoned.part} of ${d.zoned.parts} for ${d.zoned.cron})` : "");

function planRow(i: PlanItem): string[] {
  switch (i.action) {
    case "create":
      // The destination is always APP_URL/api/cron/<job> (the header line names APP_URL).
      return ["create", i.scheduleId, `${i.desired.cron}${partOf(i.desired)}, retries ${i.desired.retries}, timeout ${i.desired.timeoutSeconds}s`];
    case "update":
      return ["update", i.scheduleId, [...i.changes.map((c) => `${c.field}: ${c.from} -> ${c.to}`), ...(i.desired.zoned ? [partOf(i.desired).trim()] : [])].join("\n")];
    case "delete":
      return ["delete", i.scheduleId, i.current.cron.startsWith("CRON_TZ=") || /-\d+$/.test(i.scheduleId) ? `not one of the UTC crons config/qstash.ts needs now` : `job "${i.job}" is no longer in config/qstash.ts`];
    case "unchanged":
      return ["unchanged", i.scheduleId, `${i.desired.cron}${partOf(i.desired)}`];
  }
}

/**
 * One line per zoned entry: the UTC crons it is now, when keep-alive re-syncs them, and whether
 * QStash holds them (a zoned entry out of date misses or doubles runs after the next offset change).
 */
function zonedNotes(plan: Plan, desired: readonly DesiredSchedule[]) {
  const byJob = new Map<string, DesiredSchedule[]>();
  for (const d of desired) if (d.zoned) byJob.set(d.job, [...(byJob.get(d.job) ?? []), d]);
  return [...byJob].map(([job, parts]) => {
    const zoned = parts[0]!.zoned!;
    const ids = new Set(parts.map((p) => p.scheduleId));
    const mine = plan.items.filter((i) => ids.has(i.scheduleId) || (i.action === "delete" && i.current.destination.endsWith(`/api/cron/${job}`)));
    // Out of date: QStash holds crons of this entry, and not the ones it needs now.
    const stale = mine.some((i) => i.action !== "create") && mine.some((i) => i.action !== "unchanged");
    const resync = zoned.resyncAt ? `keep-alive re-syncs them from ${zoned.resyncAt.toISOString().slice(0, 16).replace("T", " ")} UTC, before the zone's next offset change` : "the zone keeps its offset";
    const line = `${stale ? "out of date" : "zoned"}: ${job} (${zoned.cron}) runs as ${parts.length} UTC cron(s): ${parts.map((p) => p.cron).join(" | ")}; ${resync}.`;
    return { job, cron: zoned.cron, utc: parts.map((p) => p.cron), resyncAt: zoned.resyncAt?.toISOString() ?? null, outOfDate: stale, line };
  });
}

function summary(plan: Plan): string {
  const parts = [`${countOf(plan, "create")} to create`, `${countOf(plan, "update")} to update`, `${countOf(plan, "delete")} to delete`, `${countOf(plan, "unchanged")} unchanged`];
  const others = plan.foreign.length + plan.kept.length;
  return `Plan: ${parts.join(", ")}.${others ? ` ${others} other schedule${others === 1 ? "" : "s"} in the account ${others === 1 ? "is" : "are"} not ours and left alone.` : ""}`;
}

function planJson(plan: Plan) {
  const ids = (a: PlanItem["action"]) => plan.items.filter((i) => i.action === a).map((i) => i.scheduleId);
  return {
    create: ids("create"),
    update: plan.items.flatMap((i) => (i.action === "update" ? [{ scheduleId: i.scheduleId, changes: i.changes }] : [])),
    delete: ids("delete"),
    unchanged: ids("unchanged"),
    foreign: plan.foreign.map((s) => s.scheduleId),
    kept: plan.kept.map((k) => ({ scheduleId: k.current.scheduleId, reason: k.reason })),
  };
}
