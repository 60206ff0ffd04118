import type { Rig } from "./rig";

/** `n` orders of one buyer that reached `confirmed`: each is worth exactly one confirmation email. */
export async function confirmedOrders(rig: Rig, n: number): Promise<string[]> {
  const [user] = await rig.sql<{ id: string }[]>`
    insert into commerce_users (email, name, verified) values (${`buyer-${Date.now()}@example.test`}, 'Fault Buyer', true) returning id`;
  const rows = await rig.sql<{ id: string }[]>`
    insert into commerce_orders (user_id, status, total, currency, confirmed_at)
    select ${user!.id}, 'processing', 250000, 'inr', now() from generate_series(1, ${n}) returning id`;
  return rows.map((r) => r.id);
}

/** Emails the provider made per order (from the subject's key), whatever the app's outbox says. */
export function emailsPerOrder(rig: Rig): Map<string, number> {
  const per = new Map<string, number>();
  for (const e of rig.vendors.emails) {
    const order = /^order:([0-9a-f-]+):/.exec(e.key ?? "")?.[1] ?? "?";
    per.set(order, (per.get(order) ?? 0) + 1);
  }
  return per;
}

/** Succeeded runs of a job, per message id. */
export async function succeededRuns(rig: Rig, job: string): Promise<Map<string, number>> {
  const rows = await rig.sql<{ message_id: string; n: number }[]>`
    select message_id, count(*)::int as n from job_runs where job = ${job} and status = 'succeeded' group by message_id`;
  return new Map(rows.map((r) => [r.message_id, r.n]));
}
