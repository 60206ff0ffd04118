import type { Client } from "@upstash/qstash";
import { describeError } from "../errors";
import { keepSettling } from "../http/settle";
import { BackfillRefusal, planBackfill } from "../jobs/backfill";
import { runJob, type RunDeps } from "../jobs/run";
import { describeQStashError } from "../qstash/client";
import { setJobPaused } from "../qstash/pause";
import { publishSlotRuns } from "../qstash/slot-runs";
import { deleteDeadLetter, ourDeadLetter, ourDeadLetters, replayDeadLetter } from "./dead-letters";
import { EFFECT_ACTIONS, effectAction } from "./effect-actions";
import { refusedPayload, runNowPayload } from "./run-now";

export const ACTIONS = ["run", "pause", "resume", "backfill", "replay", "delete", "replay-job", "delete-job", ...EFFECT_ACTIONS] as const;
export type Action = (typeof ACTIONS)[number];

export interface ActionResult {
  /** Where the browser goes next, with a notice for the person who clicked. */
  location: string;
  ok: boolean;
  notice: string;
}

const JOB = /^[a-z0-9-]{1,100}$/;
const field = (form: FormData, name: string) => {
  const v = form.get(name);
  return typeof v === "string" ? v.trim() : "";
};
const at = (path: string, ok: boolean, notice: string): ActionResult => ({ location: `${path}${path.includes("?") ? "&" : "?"}${ok ? "notice" : "error"}=${encodeURIComponent(notice)}`, ok, notice });

/** One console action, already authenticated and CSRF-checked by the route. */
export async function performAction(action: Action, form: FormData, deps: RunDeps, client: Client, operator = "(unnamed)"): Promise<ActionResult> {
  const { env, registry, log } = deps;
  const job = field(form, "job");
  const jobPage = `/ops/jobs/${encodeURIComponent(job)}`;
  const act = log.child({ via: "ops", action });
  try {
    switch (action) {
      case "effect-retry":
      case "effect-made":
      case "effect-abandon":
      case "replay-run":
        return await effectAction(action, form, deps, client, operator);
      case "run": {
        const def = JOB.test(job) ? registry.get(job) : undefined;
        if (!def) return at("/ops", false, `unknown job "${job}"`);
        const payload = runNowPayload(def.payload, field(form, "payload"));
        if (!payload.ok) return refusedPayload(jobPage, field(form, "payload"), payload.error);
        const outcome = await runJob({ job, payload: payload.data, trigger: "manual", continueAfterTimeout: keepSettling }, deps);
        act.info("ops.run_now", { job, status: outcome.status });
        const runId = "runId" in outcome ? outcome.runId : undefined;
        const error = outcome.status === "failed" ? `: ${describeError(outcome.error).message}` : "";
        // The run's own page: its payload, effects and timeline say more than the job's list.
        return at(runId ? `/ops/runs/${runId}` : jobPage, outcome.status === "succeeded", `run ${outcome.status}${error}`);
      }
      case "pause":
      case "resume": {
        if (!registry.scheduleOf(job)) return at("/ops", false, `${job} has no schedule`);
        // Every schedule of the job: a zoned entry is several.
        const ids = await setJobPaused(client, env, job, action === "pause");
        act.info("ops.schedule", { job, schedules: ids, action });
        if (!ids.length) return at(jobPage, false, `no schedule of ${job} in QStash (pnpm qstash:schedule creates it)`);
        return at(jobPage, true, `schedule ${ids.join(", ")} ${action === "pause" ? "paused" : "resumed"}`);
      }
      case "backfill": {
        // The plan the page showed, computed again: runs that finished since are not published.
        const from = field(form, "from");
        const to = field(form, "to");
        const back = `${jobPage}?backfill_from=${encodeURIComponent(from)}&backfill_to=${encodeURIComponent(to)}#backfill`;
        let plan;
        try {
          plan = await planBackfill(deps, job, { from, to }, { now: new Date() });
        } catch (err) {
          if (err instanceof BackfillRefusal) return at(JOB.test(job) && registry.get(job) ? back : "/ops", false, `backfill refused: ${err.message}`);
          throw err;
        }
        const ran = plan.slots.length - plan.toRun.length;
        const r = plan.toRun.length ? await publishSlotRuns({ env, registry, client }, job, plan.toRun, "backfill") : { messageIds: [], deduplicated: 0 };
        act.info("ops.backfill", { job, from: plan.from.toISOString(), to: plan.to.toISOString(), slots: plan.slots.length, alreadyRan: ran, published: r.messageIds.length, deduplicated: r.deduplicated });
        return at(`${jobPage}?trigger=backfill`, true, `backfill of ${plan.slots.length} slot(s): published ${r.messageIds.length} run(s), one at a time; ${ran} already ran`);
      }
      case "replay":
      case "delete": {
        const id = field(form, "id");
        const m = id ? await ourDeadLetter(client, env, id) : undefined;
        if (!m) return at("/ops/dead-letters", false, `no dead letter ${id} for this deployment (already replayed or deleted?)`);
        if (action === "delete") {
          await deleteDeadLetter(client, m.dlqId);
          act.info("ops.dead_letter.deleted", { dlqId: m.dlqId });
          return at("/ops/dead-letters", true, `deleted ${m.dlqId}`);
        }
        const r = await replayDeadLetter(client, env, m);
        act.info("ops.dead_letter.replayed", { dlqId: m.dlqId, messageId: r.messageId });
        return at("/ops/dead-letters", true, `replayed ${m.dlqId} as message ${r.messageId}`);
      }
      case "replay-job":
      case "delete-job": {
        if (!JOB.test(job)) return at("/ops/dead-letters", false, "choose a job");
        const all = await ourDeadLetters(client, env, job);
        let done = 0;
        const failures: string[] = [];
        // One at a time: each gets its own answer, and one failure does not stop the rest.
        for (const m of all) {
          try {
            if (action === "delete-job") await deleteDeadLetter(client, m.dlqId);
            else await replayDeadLetter(client, env, m);
            done++;
          } catch (err) {
            failures.push(`${m.dlqId}: ${(err as Error).message}`);
          }
        }
        act.info("ops.dead_letter.bulk", { job, action, done, failed: failures.length });
        const verb = action === "delete-job" ? "deleted" : "replayed";
        return at(`/ops/dead-letters?job=${encodeURIComponent(job)}`, failures.length === 0, `${verb} ${done} of ${all.length} for ${job}${failures.length ? `; failed: ${failures.join("; ")}` : ""}`);
      }
    }
  } catch (err) {
    act.error("ops.action.failed", { job, error: describeError(err) });
    if ((EFFECT_ACTIONS as readonly string[]).includes(action)) return at(`/ops/runs/${encodeURIComponent(field(form, "run"))}`, false, `${action} failed: ${describeQStashError(err, env.qstash.url)}`);
    return at(action === "run" || action === "pause" || action === "resume" || action === "backfill" ? jobPage : "/ops/dead-letters", false, `${action} failed: ${describeQStashError(err, env.qstash.url)}`);
  }
}
