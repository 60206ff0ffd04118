import { notFound } from "next/navigation";
import { one, signedIn, type SearchParams } from "@/app/ops/_ui/page";
import { attemptOf, causeChain, deadLetterOf, runDetail, timelineOf } from "@/lib/ops/run";
import { ActionForm, ms, Notice, Status, when } from "../../_ui/parts";
import { Shell } from "../../_ui/shell";
import { Actions, Effects } from "./effects";

export const dynamic = "force-dynamic";

const CSS = `
.run-grid{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1rem}
@media (max-width:800px){.run-grid{grid-template-columns:minmax(0,1fr)}}
.run-grid pre,.run pre{white-space:pre-wrap;word-break:break-word;max-height:22rem;overflow:auto;background:#f6f6f6;padding:.5rem;margin:0}
.causes li{margin:.2rem 0}.tl td:first-child{white-space:nowrap}.lv-warn{background:#fff3c4}.lv-error{background:#f8d7d7}
.effect{border:1px solid #ddd;background:#fff;padding:.5rem .75rem;margin:.5rem 0}
.effect form.decide{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin:.3rem 0}
.effect input[name=reason]{flex:1 1 14rem;min-width:0}
`;

export default async function RunPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: SearchParams }) {
  const { id } = await params;
  const q = await searchParams;
  const { deps, session, client } = await signedIn(`/ops/runs/${id}`);
  const d = await runDetail(deps, id);
  if (!d) notFound();
  const { run } = d;
  const dead = await deadLetterOf(deps, client, run);
  const attempt = attemptOf(deps, run, dead.letter);
  const { steps, notes } = timelineOf(d);
  const csrf = session.csrf;
  const fields: [string, React.ReactNode][] = [
    ["status", <Status key="s" value={run.status} />],
    ["job", <a key="j" href={`/ops/jobs/${run.job}`}>{run.job}</a>],
    ["trigger", run.trigger],
    ["attempt", `${attempt.n}${attempt.of ? ` of ${attempt.of}` : ""}`],
    ["started", when(run.started_at)],
    ["finished", when(run.finished_at)],
    ["duration", ms(run.duration_ms)],
    ["slot", when(run.slot_at)],
    ["lag", ms(run.lag_ms)],
    ["QStash message", run.message_id ?? "–"],
    ["schedule", run.schedule_id ?? "–"],
  ];
  return (
    <Shell csrf={csrf}>
      <style>{CSS}</style>
      <div className="run">
        <h1>
          Run of <a href={`/ops/jobs/${run.job}`}>{run.job}</a> <Status value={run.status} />
        </h1>
        <p><small>{run.id}</small></p>
        <Notice notice={one(q.notice)} error={one(q.error)} />
        <div className="run-grid">
          <section>
            <dl id="run-facts">
              {fields.map(([k, v]) => (
                <div key={k} style={{ display: "contents" }}>
                  <dt>{k}</dt>
                  <dd data-field={k}>{v}</dd>
                </div>
              ))}
            </dl>
            {d.deliveries.length > 1 && (
              <p>
                Deliveries of this message:{" "}
                {d.deliveries.map((x) => (
                  <span key={x.id}>
                    <a href={`/ops/runs/${x.id}`}>attempt {x.attempt + 1}</a> <Status value={x.status} />{" "}
                  </span>
                ))}
              </p>
            )}
          </section>
          <section>
            {run.error ? (
              <>
                <h2>Error</h2>
                <ol className="causes" id="run-error">
                  {causeChain(run.error).map((e, i) => (
                    <li key={i}>
                      {i > 0 && "caused by "}
                      <strong>{e.name ?? "Error"}</strong>: {e.message ?? ""}
                      {typeof e.status === "number" ? ` (HTTP ${e.status})` : ""}
                    </li>
                  ))}
                </ol>
              </>
            ) : null}
            <h2>Payload</h2>
            <pre id="run-payload">{run.payload === null || run.payload === undefined ? (run.finished_at ? "not recorded (runs closed before the ledger kept payloads)" : "recorded when the run closes") : JSON.stringify(run.payload, null, 2)}</pre>
            <h2>Stats</h2>
            <pre id="run-stats">{JSON.stringify(run.stats ?? null, null, 2)}</pre>
          </section>
        </div>
        {dead.letter || dead.error ? (
          <section id="dead-letter">
            <h2>Dead letter</h2>
            {dead.error ? <p className="flash bad">{dead.error}</p> : null}
            {dead.letter ? (
              <div className="actions">
                QStash gave up on this message: dead letter {dead.letter.dlqId}.{" "}
                <ActionForm action="replay-run" csrf={csrf} fields={{ run: run.id, job: run.job, id: dead.letter.dlqId }} label="Replay the dead letter" />
              </div>
            ) : null}
          </section>
        ) : null}
        <Effects d={d} csrf={csrf} />
        <section>
          <h2>Timeline</h2>
          {notes.map((n) => <p key={n}><small>{n}</small></p>)}
          <div className="scroll">
            <table className="tl" id="timeline">
              <thead><tr><th>when</th><th>what</th><th>detail</th></tr></thead>
              <tbody>
                {steps.map((s, i) => (
                  <tr key={i} className={s.level ? `lv-${s.level}` : undefined}>
                    <td>{when(s.at)}</td>
                    <td>{s.what}</td>
                    <td className="wrap"><small>{s.detail ?? ""}</small></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p><small>Log lines kept: a run&apos;s warnings and errors, and a failed run&apos;s last 20 lines (at most 40 lines, 16 KB), as long as the run itself (RUNS_RETENTION_DAYS). Everything else went to the log drain only.</small></p>
        </section>
        <Actions actions={d.actions} />
      </div>
    </Shell>
  );
}
