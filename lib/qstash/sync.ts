import type { Client } from "@upstash/qstash";
import type { Env } from "../env";
import type { Registry } from "../jobs/registry";
import { describeQStashError } from "./client";
import { createRequestOf, desiredSchedules, type DesiredSchedule } from "./desired";
import { refusals } from "./guard";
import { isLocalQStash } from "./destinations";
import { checkLimits, type LimitReport, type PlanName } from "./limits";
import { changesOf, planSchedules, type Plan, type PlanItem } from "./plan";

export type SyncEnv = Pick<Env, "appUrl" | "schedulePrefix" | "mode" | "qstash">;

export type Prepared =
  | { ok: false; refusals: string[]; error?: undefined }
  | { ok: false; refusals: []; error: string }
  | { ok: true; desired: DesiredSchedule[]; plan: Plan; limits: LimitReport };

/** The plan limits checked by default: the free plan against the cloud, none against a local server. */
export const defaultPlanName = (env: Pick<Env, "qstash">): PlanName => env.qstash.plan ?? (isLocalQStash(env.qstash.url) ? "none" : "free");

/**
 * Step 1 of plan-then-apply: refuse what cloud QStash must never get (no request is made then),
 * list the account once, and compute the plan and the plan-limit warnings.
 */
export async function prepareSync(client: Client, env: SyncEnv, registry: Registry, opts: { plan?: PlanName; now?: Date } = {}): Promise<Prepared> {
  const desired = desiredSchedules(registry, env, opts.now);
  const refused = refusals(env, desired);
  if (refused.length) return { ok: false, refusals: refused };
  let listed;
  try {
    listed = await client.schedules.list();
  } catch (err) {
    return { ok: false, refusals: [], error: `could not list schedules: ${describeQStashError(err, env.qstash.url)}` };
  }
  const plan = planSchedules(desired, listed, { prefix: env.schedulePrefix, appUrl: env.appUrl });
  const others = [...plan.foreign, ...plan.kept.map((k) => k.current)];
  const limits = checkLimits(opts.plan ?? defaultPlanName(env), desired, others, opts.now ?? new Date());
  // Checked, not only warned: over the plan's schedule limit some jobs would never run, and nobody would hear.
  if (limits.refusals.length) return { ok: false, refusals: limits.refusals };
  return { ok: true, desired, plan, limits };
}

export interface Applied {
  item: PlanItem;
  ok: boolean;
  error?: string;
}

/** Step 2: creates and updates (an upsert by id), then deletes. Each item stands alone: one failure does not stop the rest. */
export async function applyPlan(client: Client, env: Pick<Env, "qstash">, plan: Plan, onItem: (a: Applied) => void = () => {}): Promise<Applied[]> {
  const done: Applied[] = [];
  for (const item of changesOf(plan)) {
    let result: Applied;
    try {
      if (item.action === "delete") await client.schedules.delete(item.scheduleId);
      else if (item.action === "create" || item.action === "update") await client.schedules.create(createRequestOf(item.desired));
      result = { item, ok: true };
    } catch (err) {
      result = { item, ok: false, error: describeQStashError(err, env.qstash.url) };
    }
    done.push(result);
    onItem(result);
  }
  return done;
}

/** Step 3: list again; what QStash now holds must plan to nothing. */
export async function verifySync(client: Client, env: SyncEnv, desired: readonly DesiredSchedule[]): Promise<{ ok: true; plan: Plan } | { ok: false; error: string }> {
  try {
    const plan = planSchedules(desired, await client.schedules.list(), { prefix: env.schedulePrefix, appUrl: env.appUrl });
    return { ok: true, plan };
  } catch (err) {
    return { ok: false, error: `could not list schedules to verify: ${describeQStashError(err, env.qstash.url)}` };
  }
}

export interface SyncResult {
  status: "refused" | "error" | "in-sync" | "applied" | "apply-failed" | "verify-failed";
  messages: string[];
  plan?: Plan;
  limits?: LimitReport;
  applied: Applied[];
}

/** All three steps without printing: for `pnpm dev`, which syncs the registry to the local QStash at start. */
export async function syncSchedules(client: Client, env: SyncEnv, registry: Registry, opts: { plan?: PlanName; now?: Date } = {}): Promise<SyncResult> {
  const prep = await prepareSync(client, env, registry, opts);
  if (!prep.ok) return prep.error ? { status: "error", messages: [prep.error], applied: [] } : { status: "refused", messages: prep.refusals, applied: [] };
  const base = { plan: prep.plan, limits: prep.limits };
  if (changesOf(prep.plan).length === 0) return { status: "in-sync", messages: [], applied: [], ...base };
  const applied = await applyPlan(client, env, prep.plan);
  const failed = applied.filter((a) => !a.ok);
  if (failed.length) return { status: "apply-failed", messages: failed.map((a) => `${a.item.action} ${a.item.scheduleId}: ${a.error}`), applied, ...base };
  const verify = await verifySync(client, env, prep.desired);
  if (!verify.ok) return { status: "verify-failed", messages: [verify.error], applied, ...base };
  const left = changesOf(verify.plan);
  if (left.length) return { status: "verify-failed", messages: left.map((i) => `${i.scheduleId} still differs after applying (${i.action})`), applied, ...base };
  return { status: "applied", messages: [], applied, ...base };
}
