import type { ActionRow, EffectRow, RunDetail } from "@/lib/ops/run";
import { Status, when } from "../../_ui/parts";

/** What each status lets a person do, and what to know before doing it. */
const CHOICES: Record<string, { action: string; label: string; danger?: boolean }[]> = {
  failed: [{ action: "effect-retry", label: "Retry now" }, { action: "effect-abandon", label: "Abandon", danger: true }],
  unknown: [{ action: "effect-retry", label: "Retry (may make it twice)" }, { action: "effect-made", label: "It happened (mark made)" }, { action: "effect-abandon", label: "Abandon", danger: true }],
  abandoned: [{ action: "effect-retry", label: "Retry" }, { action: "effect-made", label: "It happened (mark made)" }],
};

const WARN: Record<string, string> = {
  unknown:
    "Its answer was lost: it may have been made. Check with the provider first (the key is the idempotency key). Retry keeps it unknown, so a job that can look it up at the provider does so before acting, and a provider that keeps idempotency keys (Stripe, Resend, Novu: 24 h) makes it once; otherwise it may be made twice. If it happened, mark it made.",
  abandoned:
    "A person decides. Retry makes it once more as not made: if its last error says the outcome was unknown, check with the provider first, or it may be made twice. Marking it made does not update the job's own tables.",
  failed: "Not made (the provider refused it): retrying now is safe.",
};

function Effect({ e, runId, csrf }: { e: EffectRow; runId: string; csrf: string }) {
  const choices = CHOICES[e.status] ?? [];
  return (
    <div className="effect" data-effect={e.key} data-status={e.status}>
      <div>
        <strong>{e.key}</strong> <Status value={e.status} /> attempt {e.attempts} of {e.max_attempts}
        {e.subject ? <> · subject {e.subject}</> : null}
        {e.next_attempt_at && (e.status === "failed" || e.status === "unknown") ? <> · due again {when(e.next_attempt_at)}</> : null}
      </div>
      {e.result !== null && e.result !== undefined ? <div>provider: <code className="result">{JSON.stringify(e.result)}</code></div> : null}
      {e.last_error ? <div className="wrap"><small>last error: {e.last_error}</small></div> : null}
      {choices.length > 0 && (
        <>
          <p><small>{WARN[e.status]}</small></p>
          <form method="post" className="decide" action={`/ops/actions/${choices[0]!.action}`}>
            <input type="hidden" name="csrf" value={csrf} />
            <input type="hidden" name="run" value={runId} />
            <input type="hidden" name="job" value={e.job} />
            <input type="hidden" name="key" value={e.key} />
            <input type="hidden" name="status" value={e.status} />
            <input name="reason" required minLength={3} maxLength={500} placeholder="why (recorded with your name)" aria-label={`reason for ${e.key}`} />
            {choices.map((c) => (
              <button key={c.action} type="submit" formAction={`/ops/actions/${c.action}`} className={c.danger ? "danger" : undefined}>
                {c.label}
              </button>
            ))}
          </form>
        </>
      )}
    </div>
  );
}

export function Effects({ d, csrf }: { d: RunDetail; csrf: string }) {
  return (
    <section id="effects">
      <h2>Effects ({d.effects.length})</h2>
      {d.effects.length === 0 ? (
        <p>None held by this run. An effect names only the run that claimed it last: one retried by a later run is listed there.</p>
      ) : (
        d.effects.map((e) => <Effect key={e.key} e={e} runId={d.run.id} csrf={csrf} />)
      )}
    </section>
  );
}

export function Actions({ actions }: { actions: ActionRow[] }) {
  return (
    <section id="actions">
      <h2>Console actions on this run and its effects</h2>
      {actions.length === 0 ? (
        <p>None.</p>
      ) : (
        <ul>
          {actions.map((a) => (
            <li key={a.id} data-action={a.action}>
              {when(a.at)} <strong>{a.operator}</strong> {a.action}
              {a.effect_key ? ` ${a.effect_key}` : ""}
              {a.reason ? ` — “${a.reason}”` : ""}: {a.ok ? "done" : "refused"}, {a.outcome}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
