import { jobsTable } from "@/lib/ops/jobs";
import { one, signedIn, type SearchParams } from "@/app/ops/_ui/page";
import { ms, Notice, pct, RunsChart, Status, when } from "./_ui/parts";
import { Shell } from "./_ui/shell";

export const dynamic = "force-dynamic";

export default async function Jobs({ searchParams }: { searchParams: SearchParams }) {
  const q = await searchParams;
  const { deps, session, client } = await signedIn("/ops");
  const now = new Date();
  const table = await jobsTable(deps, client, now);
  return (
    <Shell csrf={session.csrf}>
      <h1>Jobs</h1>
      <Notice notice={one(q.notice)} error={one(q.error)} />
      {table.qstashError && <p className="warn">QStash could not be asked (paused and drift unknown): {table.qstashError}</p>}
      <div className="scroll">
        <table id="jobs">
          <thead>
            <tr>
              <th>job</th><th>schedule</th><th>next run</th><th>last run</th><th>24 h</th><th>7 d</th><th>7 days</th><th>overlap</th><th>QStash</th><th>needs a person</th>
            </tr>
          </thead>
          <tbody>
            {table.rows.map((r) => (
              <tr key={r.job} data-job={r.job}>
                <td><a href={`/ops/jobs/${r.job}`}>{r.job}</a></td>
                <td className="wrap">{r.schedule ? <>{r.schedule.words} <small>({r.schedule.zone}{r.schedule.via === "vercel" ? ", Vercel cron" : ""})</small></> : <small>one-time / event</small>}</td>
                <td>{r.schedule?.next ? when(r.schedule.next) : "–"}</td>
                <td>{r.last ? <><Status value={r.last.status} /> {when(r.last.started_at)}<br /><small>{ms(r.last.duration_ms)}, lag {ms(r.last.lag_ms)}</small></> : "never"}</td>
                <td>{pct(r.windows["24h"]?.success_rate)}<br /><small>p95 {ms(r.windows["24h"]?.p95_ms)}</small></td>
                <td>{pct(r.windows["7d"]?.success_rate)}<br /><small>p95 {ms(r.windows["7d"]?.p95_ms)}</small></td>
                <td><RunsChart days={r.days} now={now} /></td>
                <td>{r.overlap}</td>
                <td>{r.paused === undefined ? "–" : r.paused ? <span className="warn">paused</span> : "active"}{r.drift?.length ? <><br /><span className="warn" title={r.drift.join(", ")}>drift: {r.drift.join(", ")}</span></> : null}</td>
                <td>{r.needs_person.unknown + r.needs_person.abandoned > 0 ? <span className="warn">{r.needs_person.unknown} unknown, {r.needs_person.abandoned} abandoned</span> : "0"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Shell>
  );
}
