import type { Client } from "@upstash/qstash";
import { describeError } from "../errors";
import { keepSettling } from "../http/settle";
import { runJob, type RunDeps } from "../jobs/run";
import { replayDeadLetter } from "./dead-letters";
import { deadLetterOf, isRunId, runDetail } from "./run";

export const EFFECT_ACTIONS = ["effect-retry", "effect-made", "effect-abandon", "replay-run"] as const;
export type EffectAction = (typeof EFFECT_ACTIONS)[number];

interface Result {
  location: string;
  ok: boolean;
  notice: string;
}

const field = (form: FormData, name: string) => {
  const v = form.get(name);
  return typeof v === "string" ? v.trim() : "";
};
const back = (path: string, ok: boolean, notice: string): Result => ({ location: `${path}?${ok ? "notice" : "error"}=${encodeURIComponent(notice)}#actions`, ok, notice });
const SQL_ACTION: Record<Exclude<EffectAction, "replay-run">, string> = { "effect-retry": "retry", "effect-made": "made", "effect-abandon": "abandon" };

/**
 * The run page's actions. On an effect (retry, it was made, abandon) the state changes only through
 * ops_effect_resolve, which keeps the claim's rules; a retry then runs the job again with the run's
 * payload, here, so the person sees at once whether it worked. Replay publishes the run's dead
 * letter again.
 */
export async function effectAction(action: EffectAction, form: FormData, deps: RunDeps, client: Client, operator: string): Promise<Result> {
  const runId = field(form, "run");
  if (!isRunId(runId)) return back("/ops", false, "no run given");
  const page = `/ops/runs/${runId}`;
  const detail = await runDetail(deps, runId);
  if (!detail) return back("/ops", false, `no run ${runId} (past its retention?)`);
  const { run } = detail;

  if (action === "replay-run") {
    const { letter, error } = await deadLetterOf(deps, client, run);
    if (!letter) return back(page, false, error ?? `no dead letter of message ${run.message_id ?? "(none)"} in this deployment's DLQ (already replayed or deleted?)`);
    const r = await replayDeadLetter(client, deps.env, letter);
    return back(page, true, `replayed dead letter ${letter.dlqId} as message ${r.messageId}`);
  }

  const key = field(form, "key");
  const reason = field(form, "reason");
  if (!key) return back(page, false, "no effect given");
  if (reason.length < 3 || reason.length > 500) return back(page, false, "say why (3 to 500 characters): it is recorded with your name");
  const r = await deps.db.rpc<{ ok: boolean; error?: string; job?: string; from?: string; status?: string }>("ops_effect_resolve", {
    p_key: key,
    p_action: SQL_ACTION[action],
    p_expected: field(form, "status"),
    p_now: new Date(),
    p_note: `${action === "effect-abandon" ? "abandoned" : "changed"} by ${operator} in the console: ${reason}`,
    p_job: run.job,
  });
  if (!r.ok) return back(page, false, `${key}: ${r.error}`);
  if (action !== "effect-retry") return back(page, true, `${key}: ${r.from} -> ${r.status}`);

  // The effect is due now; the job's next run makes it. That run is this one, with the run's payload.
  const def = deps.registry.get(run.job);
  const parsed = def?.payload.safeParse(run.payload ?? {});
  if (!def || !parsed?.success) return back(page, true, `${key} is due again; the run's payload was not recorded, so run ${run.job} with it to make the effect`);
  const outcome = await runJob({ job: run.job, payload: parsed.data, trigger: "manual", oneTime: !deps.registry.scheduleOf(run.job), continueAfterTimeout: keepSettling }, deps);
  const next = "runId" in outcome ? `/ops/runs/${outcome.runId}` : page;
  const why = outcome.status === "failed" ? `: ${describeError(outcome.error).message}` : "";
  return back(next, outcome.status === "succeeded", `${key} retried: run ${outcome.status}${why}`);
}
