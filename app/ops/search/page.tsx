import { redirect } from "next/navigation";
import { one, signedIn, type SearchParams } from "@/app/ops/_ui/page";
import { ACCEPTED, deadLetterHref, effectHref, hitCount, messageHref, onlyTarget, runHref, search, SEARCH_LIMIT, type SearchResult } from "@/lib/ops/search";
import { attemptNo, Status, when } from "../_ui/parts";
import { Shell } from "../_ui/shell";

export const dynamic = "force-dynamic";

const css = `#search-results td{white-space:normal;word-break:break-all}#search-results h2 small{font-weight:normal}main label{max-width:100%}`;

/** `/ops/search?q=`: one thing found opens it; several are listed by kind; none says what was tried. */
export default async function SearchPage({ searchParams }: { searchParams: SearchParams }) {
  const q = (one((await searchParams).q) ?? "").trim();
  const { deps, session } = await signedIn(`/ops/search?q=${encodeURIComponent(q)}`);
  const result: SearchResult | undefined = q ? await search(deps, q) : undefined;
  const target = result && onlyTarget(result);
  if (target) redirect(target);
  const n = result ? hitCount(result) : 0;
  const more = (rows: unknown[]) => (rows.length >= SEARCH_LIMIT ? <small> (the first {SEARCH_LIMIT}; there may be more)</small> : null);
  return (
    <Shell csrf={session.csrf} q={q}>
      <style>{css}</style>
      <h1>Search</h1>
      <form method="get" action="/ops/search" role="search">
        <label>run id, message id, effect key or subject <input type="search" name="q" defaultValue={q} style={{ width: "min(24rem, 80vw)" }} /></label> <button type="submit">Search</button>
      </form>
      {result && n === 0 && (
        <section id="no-match">
          <p role="status">Nothing matches “{q}”. Searched runs, effects, scheduled messages and dead letters for:</p>
          <ul>{ACCEPTED.map((a) => <li key={a}>{a}</li>)}</ul>
        </section>
      )}
      {!result && <ul>{ACCEPTED.map((a) => <li key={a}>{a}</li>)}</ul>}
      {result && n > 0 && (
        <div id="search-results">
          <p role="status">{n} match(es) for “{q}”.</p>
          {result.runs.length > 0 && (
            <section id="hits-runs">
              <h2>Runs{more(result.runs)}</h2>
              <div className="scroll"><table><thead><tr><th>started</th><th>job</th><th>status</th><th>matched</th></tr></thead><tbody>
                {result.runs.map((r) => (
                  <tr key={r.id} data-run={r.id}><td><a href={runHref(r.id)}>{when(r.started_at)}</a></td><td>{r.job}</td><td><Status value={r.status} /> {r.trigger}, attempt {attemptNo(r.attempt)}</td><td>{r.matched}</td></tr>
                ))}
              </tbody></table></div>
            </section>
          )}
          {result.effects.length > 0 && (
            <section id="hits-effects">
              <h2>Effects{more(result.effects)}</h2>
              <div className="scroll"><table><thead><tr><th>key</th><th>job</th><th>status</th><th>subject</th><th>matched</th></tr></thead><tbody>
                {result.effects.map((e) => (
                  <tr key={e.key} data-effect={e.key}><td><a href={effectHref(e)}>{e.key}</a></td><td>{e.job}</td><td><Status value={e.status} /> {e.attempts}/{e.max_attempts}, {when(e.updated_at)}</td><td>{e.subject ?? "–"}</td><td>{e.matched}{e.run_id ? "" : " (no run holds it)"}</td></tr>
                ))}
              </tbody></table></div>
            </section>
          )}
          {result.messages.length > 0 && (
            <section id="hits-messages">
              <h2>Scheduled messages{more(result.messages)}</h2>
              <div className="scroll"><table><thead><tr><th>message id</th><th>job</th><th>status</th><th>owner</th><th>matched</th></tr></thead><tbody>
                {result.messages.map((m) => (
                  <tr key={m.message_id} data-message={m.message_id}><td>{m.message_id}</td><td><a href={messageHref(m)}>{m.job}</a></td><td>{m.status}, {when(m.created_at)}</td><td>{m.owner}</td><td>{m.matched}</td></tr>
                ))}
              </tbody></table></div>
            </section>
          )}
          {result.dead_letters.length > 0 && (
            <section id="hits-dead-letters">
              <h2>Dead letters{more(result.dead_letters)}</h2>
              <div className="scroll"><table><thead><tr><th>created</th><th>job</th><th>message id</th><th>last status</th><th>matched</th></tr></thead><tbody>
                {result.dead_letters.map((d) => (
                  <tr key={d.id} data-dead-letter={d.id}><td><a href={deadLetterHref(d)}>{when(d.created_at)}</a></td><td>{d.job ?? "?"}</td><td>{d.source_message_id}</td><td>{d.response_status ?? "–"}</td><td>{d.matched}</td></tr>
                ))}
              </tbody></table></div>
            </section>
          )}
        </div>
      )}
    </Shell>
  );
}
