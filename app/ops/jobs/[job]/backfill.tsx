import { BackfillRefusal, planBackfill, type BackfillPlan } from "@/lib/jobs/backfill";
import type { RunDeps } from "@/lib/jobs/run";
import { ActionForm, when } from "../../_ui/parts";

/** Slots listed on the page; the count covers them all. */
const SHOWN = 20;

/**
 * A scheduled job's Backfill: a range (read in the schedule's zone, as `pnpm job:backfill` reads
 * it) shows its plan first, slots that already ran included; the button publishes the rest.
 */
export async function BackfillSection({ deps, job, zone, csrf, from, to }: { deps: RunDeps; job: string; zone: string; csrf: string; from?: string; to?: string }) {
  let plan: BackfillPlan | undefined;
  let refusal: string | undefined;
  if (from && to) {
    try {
      plan = await planBackfill(deps, job, { from, to }, { now: new Date() });
    } catch (err) {
      if (!(err instanceof BackfillRefusal)) throw err;
      refusal = err.message;
    }
  }
  const ran = plan ? plan.slots.length - plan.toRun.length : 0;
  return (
    <section id="backfill">
      <h2>Backfill</h2>
      <form method="get" action={`/ops/jobs/${job}#backfill`}>
        <label>from ({zone}) <input type="datetime-local" name="backfill_from" defaultValue={from} required /></label>
        <label>to ({zone}) <input type="datetime-local" name="backfill_to" defaultValue={to} required /></label>
        <button type="submit">Show plan</button>
      </form>
      {refusal && <p className="flash bad" role="alert">{refusal}</p>}
      {plan && (
        <>
          <p>
            {plan.slots.length} slot(s) from {when(plan.from)} to {when(plan.to)}: {ran} already ran, {plan.toRun.length} to run, one at a time.
          </p>
          {plan.slots.length > 0 && (
            <ul id="backfill-slots">
              {plan.slots.slice(0, SHOWN).map((s) => (
                <li key={s.at.getTime()}>{when(s.at)}: {s.done ? "already ran" : "to run"}</li>
              ))}
              {plan.slots.length > SHOWN && <li>… and {plan.slots.length - SHOWN} more</li>}
            </ul>
          )}
          {plan.toRun.length > 0 && <ActionForm action="backfill" csrf={csrf} fields={{ job, from: from!, to: to! }} label={`Publish ${plan.toRun.length} run(s)`} />}
        </>
      )}
    </section>
  );
}
