import { jobsTable, type JobRow } from "@/lib/ops/jobs";
import { nextRunOf, readView, STATE_FILTERS, STATUS_FILTERS, viewHref, viewRows, type Sort, type View } from "@/lib/ops/jobs-view";
import { attentionItems } from "@/lib/ops/overview";
import { one, signedIn, type SearchParams } from "@/app/ops/_ui/page";
import { Overview } from "./_ui/overview";
import { ms, Notice, pct, RunsChart, Status, when } from "./_ui/parts";
import { Shell } from "./_ui/shell";

export const dynamic = "force-dynamic";

const LABELS: Record<Sort, string> = { job: "job", product: "product", last: "last run", success: "success", next: "next run" };

function SortHeader({ v, sort, className }: { v: View; sort: Sort; className?: string }) {
  const on = v.sort === sort;
  const dir = on && v.dir === "asc" ? "desc" : on ? "asc" : sort === "last" ? "desc" : "asc";
  return (
    <th className={className} aria-sort={on ? (v.dir === "asc" ? "ascending" : "descending") : undefined}>
      <a href={viewHref(v, { sort, dir })} data-sort={sort}>{LABELS[sort]}{on ? (v.dir === "asc" ? " ▲" : " ▼") : ""}</a>
    </th>
  );
}

function State({ r }: { r: JobRow }) {
  return (
    <span className="badges">
      {r.failing && <span className="badge failing" title={`${r.failing.streak} failure(s) since the last success`}>failing</span>}
      {r.incident && <span className="badge incident">incident</span>}
      {r.paused && <span className="badge paused">paused</span>}
      {r.drift?.length ? <span className="badge drifted" title="the registry and QStash differ: pnpm qstash:schedule">drifted: {r.drift.join(", ")}</span> : null}
      {r.missed > 0 && <span className="badge missed">{r.missed} missed</span>}
      {r.paused === false && !r.drift?.length && <span className="badge active">active</span>}
    </span>
  );
}

export default async function Jobs({ searchParams }: { searchParams: SearchParams }) {
  const q = await searchParams;
  const { deps, session, client } = await signedIn("/ops");
  const now = new Date();
  const table = await jobsTable(deps, client, now);
  const v = readView(Object.fromEntries(Object.entries(q).map(([k, x]) => [k, one(x)])));
  const rows = viewRows(table.rows, v);
  const items = attentionItems(table.attention, table.rows);
  const products = [...new Set(table.rows.map((r) => r.product))].sort();
  const dead = table.attention.dead_letters.reduce((n, d) => n + Number(d.n), 0);
  const filtered = Boolean(v.product || v.status || v.state);
  return (
    <Shell csrf={session.csrf} deadLetters={dead}>
      <h1>Overview</h1>
      <Notice notice={one(q.notice)} error={one(q.error)} />
      {table.qstashError && <p className="warn">QStash could not be asked (paused and drift unknown): {table.qstashError}</p>}
      <Overview items={items} attention={table.attention} now={now} />
      <h2 id="jobs-title">Jobs {filtered && <small>({rows.length} of {table.rows.length}) <a href={viewHref(v, { product: undefined, status: undefined, state: undefined })}>show all</a></small>}</h2>
      <form method="get" action="/ops" className="filters" id="filters">
        {v.sort !== "job" && <input type="hidden" name="sort" value={v.sort} />}
        <input type="hidden" name="dir" value={v.dir} />
        <label>product <select name="product" defaultValue={v.product ?? ""}><option value="">all</option>{products.map((p) => <option key={p}>{p}</option>)}</select></label>
        <label>status <select name="status" defaultValue={v.status ?? ""}><option value="">all</option>{STATUS_FILTERS.map((s) => <option key={s}>{s}</option>)}</select></label>
        <label>state <select name="state" defaultValue={v.state ?? ""}><option value="">all</option>{STATE_FILTERS.map((s) => <option key={s}>{s}</option>)}</select></label>
        <button type="submit">Filter</button>
      </form>
      <table id="jobs" className="cards" data-sort={v.sort} data-dir={v.dir}>
        <thead>
          <tr>
            <SortHeader v={v} sort="job" />
            <SortHeader v={v} sort="product" className="lo" />
            <th>schedule</th>
            <SortHeader v={v} sort="next" />
            <SortHeader v={v} sort="last" />
            <SortHeader v={v} sort="success" />
            <th className="lo">7 days</th>
            <th className="lo">overlap</th>
            <th>needs a person</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const next = nextRunOf(r);
            const fx = r.needs_person.unknown + r.needs_person.abandoned;
            return (
              <tr key={r.job} data-job={r.job} className={r.failing ? "row-failing" : undefined}>
                <td data-label="job"><a href={`/ops/jobs/${r.job}`}>{r.job}</a> <State r={r} /></td>
                <td data-label="product" className="lo">{r.product}</td>
                <td data-label="schedule">{r.schedule ? <>{r.schedule.words} <small>({r.schedule.zone}{r.schedule.via === "vercel" ? ", Vercel cron" : ""})</small></> : <small>one-time / event</small>}</td>
                <td data-label="next run" data-next>{r.paused ? <span className="badge paused">paused</span> : next ? when(next, now) : "–"}</td>
                <td data-label="last run">{r.last ? <><Status value={r.last.status} /> {when(r.last.started_at, now)}<br /><small>{ms(r.last.duration_ms)}, lag {ms(r.last.lag_ms)}</small></> : "never"}</td>
                <td data-label="success">{pct(r.windows["24h"]?.success_rate)} <small>24 h</small> · {pct(r.windows["7d"]?.success_rate)} <small>7 d</small><br /><small>p95 {ms(r.windows["24h"]?.p95_ms)} · {ms(r.windows["7d"]?.p95_ms)}</small></td>
                <td data-label="7 days" className="lo"><RunsChart days={r.days} now={now} /></td>
                <td data-label="overlap" className="lo">{r.overlap}</td>
                <td data-label="needs a person">{fx > 0 ? <a className="warn" href={`/ops/effects?job=${encodeURIComponent(r.job)}`}>{r.needs_person.unknown} unknown, {r.needs_person.abandoned} abandoned</a> : "0"}</td>
              </tr>
            );
          })}
          {rows.length === 0 && <tr><td colSpan={9}>No job matches these filters. <a href={viewHref(v, { product: undefined, status: undefined, state: undefined })}>Show all</a></td></tr>}
        </tbody>
      </table>
    </Shell>
  );
}
