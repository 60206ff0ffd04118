import type { Attention, Item } from "@/lib/ops/overview";
import { attemptNo, when } from "./parts";

/** The first thing on /ops: whether anything needs a person, each item a link to its list. */
export function Overview({ items, attention, now }: { items: Item[]; attention: Attention; now: Date }) {
  if (!items.length) {
    return (
      <section id="overview" className="overview clear">
        <p><strong>Nothing needs a person.</strong> No failing job, open incident, dead letter, unknown or abandoned effect, missed slot or schedule drifted from QStash.</p>
      </section>
    );
  }
  return (
    <section id="overview" className="overview attention">
      <h2>{items.length === 1 ? "1 thing needs" : `${items.length} things need`} a person</h2>
      <ul>
        {items.map((i) => (
          <li key={i.id} data-item={i.id}>
            <a href={i.href}>{i.text}</a>
            {i.jobs.length > 0 && <> · {i.jobs.slice(0, 6).map((j, n) => <span key={j}>{n ? ", " : ""}<a href={`/ops/jobs/${j}`}>{j}</a></span>)}{i.jobs.length > 6 ? ` and ${i.jobs.length - 6} more` : ""}</>}
          </li>
        ))}
      </ul>
      {attention.failing.length > 0 && (
        <ul className="failing">
          {attention.failing.slice(0, 5).map((f) => (
            <li key={f.job} data-failing={f.job}>
              <a href={`/ops/jobs/${f.job}`}>{f.job}</a>: <a href={`/ops/runs/${f.run_id}`}>last run failed</a> {when(f.started_at, now)} (attempt {attemptNo(f.attempt)})
              {f.streak > 1 && <>, {f.streak >= 100 ? "100+" : f.streak} failures in a row</>}
              {f.error?.message && <> — <small title={f.error.message}>{f.error.message.length > 160 ? `${f.error.message.slice(0, 159)}…` : f.error.message}</small></>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
