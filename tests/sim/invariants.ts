import type postgres from "postgres";
import { EXPECTED } from "./jobs";
import type { SimState } from "./scenario";

/**
 * What must hold after every schedule, once the faults have stopped and the work has run out.
 * Effects are counted where they leave the app (the edge), not in a table whose key would
 * swallow a repeat. Returns the violations, each a sentence.
 */
export async function check(sql: postgres.Sql, s: SimState): Promise<string[]> {
  const out = [...s.violations];
  const rows = await sql<{ key: string; status: string; last_error: string | null; run_id: string | null }[]>`select key, status, last_error, run_id from effects`;
  const byKey = new Map(rows.map((r) => [r.key, r]));

  for (const { provider, key } of EXPECTED) {
    const made = s.edge.count(provider, key);
    const row = byKey.get(key);
    // At most once at a provider without a key (the edge counts each; with a key it keeps one).
    if (made > 1) out.push(`${key} was made ${made} times at ${provider}`);
    if (!row) {
      out.push(`${key} has no effect row after the clean phase (made ${made} times)`);
      continue;
    }
    if (row.status === "succeeded" && made !== 1) out.push(`${key} is recorded succeeded but was made ${made} times`);
    if (row.status === "abandoned" && !row.last_error) out.push(`${key} is abandoned without a reason`);
    if (row.status !== "succeeded" && row.status !== "abandoned") out.push(`${key} ends ${row.status}, neither done nor abandoned for a person`);
    // What a run heard succeed is recorded as succeeded, unless that run met a fault before it could record it.
    const heard = s.heardBy.get(`${provider}:${key}`);
    if (heard && !s.faulted.has(heard) && row.status !== "succeeded") out.push(`${key} answered success to ${heard}, which met no fault, yet ends ${row.status}`);
  }

  // No claim outlives its run.
  const held = await sql<{ key: string; status: string }[]>`select e.key, r.status from effects e join job_runs r on r.id = e.run_id where e.status = 'claimed' and r.status <> 'running'`;
  for (const h of held) out.push(`${h.key} is still claimed by a run that is ${h.status}`);

  // An open that reached the database after its caller gave up recorded nothing.
  for (const c of s.calls) {
    if (c.fn !== "job_run_open" || c.gaveUpAt === undefined || c.executedAt === undefined || c.executedAt <= c.gaveUpAt) continue;
    const r = c.result as { decision?: string; run_id?: string } | undefined;
    if (r?.decision === "run") out.push(`${c.proc}: job_run_open ran ${c.executedAt - c.gaveUpAt} ms after its caller gave up and opened run ${r.run_id}, which nobody runs`);
  }

  // The slot key: a slot succeeds once, and its runs never overlap in time (virtual clock).
  const twice = await sql<{ job: string; slot_at: Date; n: number }[]>`
    select job, slot_at, count(*)::int as n from job_runs where slot_at is not null and status = 'succeeded' group by 1, 2 having count(*) > 1`;
  for (const t of twice) out.push(`${t.job} slot ${t.slot_at.toISOString()} succeeded ${t.n} times`);
  const overlapping = await sql<{ job: string; slot_at: Date; a: string; b: string }[]>`
    select a.job, a.slot_at, a.id as a, b.id as b from job_runs a join job_runs b
      on a.job = b.job and a.slot_at = b.slot_at and a.id < b.id
     where a.status in ('succeeded', 'failed', 'running') and b.status in ('succeeded', 'failed', 'running')
       and a.started_at < coalesce(b.finished_at, 'infinity') and b.started_at < coalesce(a.finished_at, 'infinity')`;
  for (const o of overlapping) out.push(`${o.job} slot ${o.slot_at.toISOString()}: runs ${o.a} and ${o.b} overlapped`);
  // buffer-one: a waiting tick runs for the slot it first arrived for.
  const moved = await sql<{ message_id: string; slot_at: Date; buffered_slot_at: Date }[]>`
    select r.message_id, r.slot_at, h.buffered_slot_at from job_runs r join job_runs h
      on h.job = r.job and h.buffered_message_id = r.message_id
     where r.status in ('succeeded', 'failed', 'running') and r.slot_at is distinct from h.buffered_slot_at`;
  for (const m of moved) out.push(`${m.message_id} waited for slot ${m.buffered_slot_at.toISOString()} but ran for ${m.slot_at?.toISOString()}`);

  for (const o of s.outcomes) {
    // A one-time message carries its own work: never acknowledged without running.
    if (!o.d.tick && o.outcome?.status === "skipped") out.push(`${o.proc.name}: a message was answered skipped`);
    // A delivery answered 200 has its work recorded: nothing it claimed is left claimed.
    if (o.outcome?.status === "succeeded") {
      const [left] = await sql<{ n: number }[]>`select count(*)::int as n from effects where run_id = ${o.outcome.runId} and status = 'claimed'`;
      if (left!.n) out.push(`${o.proc.name} answered 200 but left ${left!.n} claim(s) unsettled`);
    }
  }
  return out;
}
