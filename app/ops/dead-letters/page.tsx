import { bodyOf, jobOfDeadLetter, lastResponseOf, type ourDeadLetters, reconciledNotice, seenDeadLetters } from "@/lib/ops/dead-letters";
import { one, signedIn, type SearchParams } from "@/app/ops/_ui/page";
import { describeQStashError } from "@/lib/qstash/client";
import { ActionForm, Notice, when } from "../_ui/parts";
import { Shell } from "../_ui/shell";

export const dynamic = "force-dynamic";

export default async function DeadLetters({ searchParams }: { searchParams: SearchParams }) {
  const q = await searchParams;
  const { deps, session, client } = await signedIn("/ops/dead-letters");
  const job = one(q.job);
  const id = one(q.id);
  let listed: Awaited<ReturnType<typeof ourDeadLetters>> = [];
  let error: string | undefined;
  let reconciled: string | undefined;
  try {
    const seen = await seenDeadLetters(deps, client, job);
    listed = seen.listed;
    reconciled = reconciledNotice(seen.reconciled);
    error = seen.reconcileError;
  } catch (err) {
    error = describeQStashError(err, deps.env.qstash.url);
  }
  const open = id ? listed.find((m) => m.dlqId === id) : undefined;
  const csrf = session.csrf;
  return (
    <Shell csrf={csrf}>
      <h1>Dead letters{job ? ` of ${job}` : ""}</h1>
      <Notice notice={one(q.notice) ?? reconciled} error={one(q.error) ?? error} />
      {job && listed.length > 0 && (
        <div className="actions">
          All {listed.length} of {job}: <ActionForm action="replay-job" csrf={csrf} fields={{ job }} label="Replay all" /> <ActionForm action="delete-job" csrf={csrf} fields={{ job }} label="Delete all" danger />{" "}
          <a href="/ops/dead-letters">all jobs</a>
        </div>
      )}
      {open && (
        <section id="dead-letter">
          <h2>{open.dlqId}</h2>
          <dl>
            <dt>job</dt><dd>{jobOfDeadLetter(open)}</dd>
            <dt>url</dt><dd>{open.method ?? "POST"} {open.url}</dd>
            <dt>message</dt><dd>{open.messageId}</dd>
            <dt>schedule</dt><dd>{open.scheduleId ?? "–"}</dd>
            <dt>created</dt><dd>{when(new Date(open.createdAt))}</dd>
            <dt>last status</dt><dd>{open.responseStatus ?? "–"}</dd>
          </dl>
          <h3>body</h3>
          <pre>{bodyOf(open) || "(empty)"}</pre>
          <h3>last response</h3>
          <pre>{lastResponseOf(open) || "(none)"}</pre>
          <ActionForm action="replay" csrf={csrf} fields={{ id: open.dlqId }} label="Replay" /> <ActionForm action="delete" csrf={csrf} fields={{ id: open.dlqId }} label="Delete" danger />
        </section>
      )}
      <div className="scroll">
        <table id="dead-letters">
          <thead><tr><th>created</th><th>job</th><th>status</th><th>dlq id</th><th>last response</th></tr></thead>
          <tbody>
            {listed.map((m) => (
              <tr key={m.dlqId} data-dlq={m.dlqId}>
                <td>{when(new Date(m.createdAt))}</td>
                <td><a href={`/ops/dead-letters?job=${jobOfDeadLetter(m)}`}>{jobOfDeadLetter(m)}</a></td>
                <td>{m.responseStatus ?? "–"}</td>
                <td><a href={`/ops/dead-letters?${job ? `job=${job}&` : ""}id=${m.dlqId}#dead-letter`}>{m.dlqId}</a></td>
                <td className="wrap">{lastResponseOf(m).slice(0, 120)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {listed.length === 0 && !error && <p>No dead letters for this deployment.</p>}
    </Shell>
  );
}
