import { notFound, redirect } from "next/navigation";
import { jobRuns, missedSlots, STATUSES, TRIGGERS } from "@/lib/ops/jobs";
import { one, signedIn, type SearchParams } from "@/app/ops/_ui/page";
import { runHref } from "@/lib/ops/search";
import { scheduleState } from "@/lib/ops/schedule-state";
import { attemptNo, ms, Notice, Status, when } from "../../_ui/parts";
import { Shell } from "../../_ui/shell";
import { BackfillSection } from "./backfill";
import { RunNow } from "./run-now";
import { ScheduleSection } from "./schedule";

export const dynamic = "force-dynamic";

/** A datetime-local value has no zone: it is read as UTC, as every time on these pages is shown. */
const date = (v: string | undefined) => {
  const iso = v && (/(?:Z|[+-]\d\d:?\d\d)$/i.test(v) ? v : `${v}Z`);
  return iso && !Number.isNaN(Date.parse(iso)) ? new Date(iso) : undefined;
};
const pick = <T extends string>(v: string | undefined, allowed: readonly T[]) => (allowed as readonly string[]).includes(v ?? "") ? (v as T) : undefined;

export default async function JobPage({ params, searchParams }: { params: Promise<{ job: string }>; searchParams: SearchParams }) {
  const { job } = await params;
  const q = await searchParams;
  const { deps, session, client } = await signedIn(`/ops/jobs/${job}`);
  const def = deps.registry.get(job);
  if (!def) notFound();
  const filters = { status: pick(one(q.status), STATUSES), trigger: pick(one(q.trigger), TRIGGERS), from: date(one(q.from)), to: date(one(q.to)) };
  // A run shown on this page in earlier versions has its own page now: old links still arrive.
  const runId = one(q.run);
  if (runId) redirect(runHref(runId));
  const schedule = deps.registry.scheduleOf(job);
  const now = new Date();
  const [runs, missed, state] = await Promise.all([
    jobRuns(deps, job, filters),
    schedule ? missedSlots(deps, client, job, now).catch((err: Error) => ({ missed: null, recent: [], notes: [err.message] })) : null,
    schedule?.via === "qstash" ? scheduleState(client, deps.env, job) : null,
  ]);
  const csrf = session.csrf;
  return (
    <Shell csrf={csrf}>
      <h1>{job}</h1>
      <Notice notice={one(q.notice)} error={one(q.error)} />
      <p>{def.description}</p>
      {/* A div, not a p: a form inside a p is invalid HTML (the parser closes the p, and hydration fails). */}
      <div className="actions">
        <RunNow def={def} job={job} csrf={csrf} confirm={one(q.confirm) === "run"} payload={one(q.payload)} error={one(q.payload_error)} />
      </div>
      {state && <ScheduleSection job={job} state={state} csrf={csrf} />}
      {missed && (
        <section>
          <h2>Missed slots (7 days)</h2>
          {missed.missed ? (
            <p className="missed">
              {missed.missed} missed; latest: {missed.recent.map((s, i) => <span key={s}>{i ? ", " : ""}{when(s)}</span>)}
            </p>
          ) : (
            <p>{missed.missed === 0 ? "None." : "Not counted."}</p>
          )}
          {missed.notes.map((n) => <p key={n}><small>{n}</small></p>)}
        </section>
      )}
      {schedule && <BackfillSection deps={deps} job={job} zone={schedule.timezone} csrf={csrf} from={one(q.backfill_from)} to={one(q.backfill_to)} />}
      <h2>Runs</h2>
      <form method="get" action={`/ops/jobs/${job}`}>
        <label>status <select name="status" defaultValue={filters.status ?? ""}><option value="">any</option>{STATUSES.map((s) => <option key={s}>{s}</option>)}</select></label>
        <label>trigger <select name="trigger" defaultValue={filters.trigger ?? ""}><option value="">any</option>{TRIGGERS.map((s) => <option key={s}>{s}</option>)}</select></label>
        <label>from (UTC) <input type="datetime-local" name="from" defaultValue={one(q.from)} /></label>
        <label>to (UTC) <input type="datetime-local" name="to" defaultValue={one(q.to)} /></label>
        <button type="submit">Filter</button>
      </form>
      <div className="scroll">
        <table id="runs">
          <thead><tr><th>started</th><th>status</th><th>trigger</th><th>attempt</th><th>duration</th><th>lag</th><th>error</th></tr></thead>
          <tbody>
            {runs.map((r) => (
              <tr key={String(r.id)} data-run={String(r.id)} data-trigger={String(r.trigger)}>
                <td><a href={runHref(String(r.id))}>{when(r.started_at)}</a></td>
                <td><Status value={r.status} /></td>
                <td>{String(r.trigger)}</td>
                <td>{attemptNo(r.attempt)}</td>
                <td>{ms(r.duration_ms)}</td>
                <td>{ms(r.lag_ms)}</td>
                <td className="wrap">{(r.error as { message?: string } | null)?.message ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {runs.length === 0 && <p>No runs match.</p>}
    </Shell>
  );
}
