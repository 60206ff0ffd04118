import { effectsNeedingPerson } from "@/lib/ops/overview";
import { one, signedIn, type SearchParams } from "@/app/ops/_ui/page";
import { Notice, Status, when } from "../_ui/parts";
import { Shell } from "../_ui/shell";

export const dynamic = "force-dynamic";

const STATUSES = ["unknown", "abandoned"] as const;

/** Effects that need a person: unknown (the provider's answer was lost) and abandoned (out of attempts). */
export default async function Effects({ searchParams }: { searchParams: SearchParams }) {
  const q = await searchParams;
  const { deps, session } = await signedIn("/ops/effects");
  const status = STATUSES.find((s) => s === one(q.status));
  const job = one(q.job) || undefined;
  const now = new Date();
  const effects = await effectsNeedingPerson(deps.db, { status, job });
  const href = (s?: string) => `/ops/effects${s || job ? `?${new URLSearchParams({ ...(s ? { status: s } : {}), ...(job ? { job } : {}) })}` : ""}`;
  return (
    <Shell csrf={session.csrf}>
      <h1>Effects that need a person{job ? ` (${job})` : ""}</h1>
      <Notice notice={one(q.notice)} error={one(q.error)} />
      <p className="filters">
        {[undefined, ...STATUSES].map((s) => (s === status ? <strong key={s ?? "all"}>{s ?? "all"}</strong> : <a key={s ?? "all"} href={href(s)}>{s ?? "all"}</a>)).reduce<React.ReactNode[]>((acc, x, i) => (i ? [...acc, " · ", x] : [x]), [])}
        {job && <> · <a href={status ? `/ops/effects?status=${status}` : "/ops/effects"}>all jobs</a></>}
      </p>
      <p><small>unknown: the provider&apos;s answer was lost; check the provider before a retry. abandoned: out of attempts. Open the run to act on it.</small></p>
      {effects.length === 0 ? (
        <p id="no-effects">None: no effect {status ? `is ${status}` : "needs a person"}{job ? ` for ${job}` : ""}.</p>
      ) : (
        <table id="effects" className="cards">
          <thead><tr><th>effect key</th><th>job</th><th>status</th><th>attempts</th><th>last error</th><th>updated</th><th>run</th></tr></thead>
          <tbody>
            {effects.map((e) => (
              <tr key={e.key} data-effect={e.key}>
                <td data-label="effect key" className="wrap"><code>{e.key}</code></td>
                <td data-label="job"><a href={`/ops/jobs/${e.job}`}>{e.job}</a></td>
                <td data-label="status"><Status value={e.status} /></td>
                <td data-label="attempts">{e.attempts} of {e.max_attempts}</td>
                <td data-label="last error" className="wrap">{e.last_error ?? "–"}</td>
                <td data-label="updated">{when(e.updated_at, now)}</td>
                <td data-label="run">{e.run_id ? <a href={`/ops/runs/${e.run_id}`}>run</a> : "–"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Shell>
  );
}
