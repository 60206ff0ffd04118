import type postgres from "postgres";

const DOMAIN = "seed.cronlayer.test";
const H = 3_600_000;
const D = 24 * H;

/**
 * A small, realistic marketplace around `now`, so each job has something to do on its first runs:
 * appointments within the hour and the day, bookings awaiting payment (one past its deadline),
 * completed appointments to transfer, a balance to pay out, a payout arriving soon, an expired slot
 * hold, a calendar token about to expire, past blocked dates, due admin tasks and old audit rows.
 * Running it again replaces the previous seed (people under @seed.cronlayer.test), nothing else.
 */
export async function seed(tx: postgres.TransactionSql, now: Date): Promise<string[]> {
  const t = (ms: number) => new Date(now.getTime() + ms);
  const day = (ms: number) => t(ms).toISOString().slice(0, 10);
  // Replace the previous seed: its people cascade to appointments, payments, payouts, dates, tokens.
  const old = await tx`select id from experts where email like ${"%@" + DOMAIN} union all select id from clients where email like ${"%@" + DOMAIN}`;
  const ids = old.map((r) => r.id as string);
  // Effects do not cascade: the seed's are found through what they are about.
  await tx`delete from effects where subject in (
    select id::text from appointments where expert_id = any(${ids}::uuid[]) or client_id = any(${ids}::uuid[])
    union all select id::text from payments where expert_id = any(${ids}::uuid[])
    union all select id::text from payouts where expert_id = any(${ids}::uuid[])
    union all select id::text from calendar_connections where expert_id = any(${ids}::uuid[])
    union all select id::text from admin_tasks where payload->>'seed' = 'true')`;
  await tx`delete from slot_reservations where expert_id = any(${ids}::uuid[])`;
  await tx`delete from experts where id = any(${ids}::uuid[])`;
  await tx`delete from clients where id = any(${ids}::uuid[])`;
  await tx`delete from admin_tasks where payload->>'seed' = 'true'`;
  await tx`delete from audit_log where actor = 'seed'`;

  const experts = await tx`insert into experts ${tx([
    { name: "Dr. Lena Vogel", email: `lena@${DOMAIN}`, time_zone: "Europe/Berlin", currency: "usd", stripe_account_id: "acct_seed_lena" },
    { name: "Marcus Reed", email: `marcus@${DOMAIN}`, time_zone: "America/New_York", currency: "usd", stripe_account_id: "acct_seed_marcus" },
    { name: "Priya Nair", email: `priya@${DOMAIN}`, time_zone: "Asia/Kolkata", currency: "usd", stripe_account_id: "acct_seed_priya" },
    { name: "Sam Taylor (onboarding)", email: `sam@${DOMAIN}`, time_zone: "Australia/Sydney", currency: "usd", stripe_account_id: null },
  ])} returning id`;
  const clients = await tx`insert into clients ${tx([
    { name: "Ana Souza", email: `ana@${DOMAIN}`, time_zone: "America/Sao_Paulo" },
    { name: "Tom Becker", email: `tom@${DOMAIN}`, time_zone: "Europe/Berlin" },
    { name: "Yuki Tanaka", email: `yuki@${DOMAIN}`, time_zone: "Asia/Tokyo" },
    { name: "Chris Doe", email: `chris@${DOMAIN}`, time_zone: "America/Los_Angeles" },
  ])} returning id`;
  const [lena, marcus, priya, sam] = experts.map((r) => r.id as string) as [string, string, string, string];
  const [ana, tom, yuki, chris] = clients.map((r) => r.id as string) as [string, string, string, string];

  const appt = async (expert: string, client: string, startsIn: number, status: string, extra: { due?: number; completedAgo?: number } = {}) => {
    const [a] = await tx`insert into appointments (expert_id, client_id, starts_at, ends_at, status, payment_due_at, completed_at)
      values (${expert}, ${client}, ${t(startsIn)}, ${t(startsIn + H)}, ${status},
              ${extra.due === undefined ? null : t(extra.due)}, ${extra.completedAgo === undefined ? null : t(-extra.completedAgo)}) returning id`;
    return a!.id as string;
  };
  // Reminders: within the hour (1h job) and within the day (24h job); a cancelled one is skipped.
  await appt(lena, ana, 40 * 60_000, "confirmed");
  await appt(marcus, tom, 55 * 60_000, "confirmed");
  await appt(priya, yuki, 5 * H, "confirmed");
  await appt(lena, chris, 20 * H, "confirmed");
  await appt(marcus, ana, 3 * H, "cancelled");
  // Payment reminders: one due within 24 h, one later.
  await appt(priya, tom, 2 * D, "pending_payment", { due: 10 * H });
  await appt(lena, yuki, 3 * D, "pending_payment", { due: 40 * H });
  // Transfers: completed past the 7-day hold (due), inside it (held), and for an expert without Stripe.
  for (const [expert, client, ago] of [[lena, ana, 9 * D], [marcus, tom, 8 * D], [priya, chris, 10 * D], [lena, yuki, 3 * D], [sam, ana, 9 * D]] as const) {
    const a = await appt(expert, client, -ago - H, "completed", { completedAgo: ago });
    await tx`insert into payments (appointment_id, expert_id, amount_cents, platform_fee_cents, status, stripe_charge_id, captured_at)
      values (${a}, ${expert}, 12000, 2400, 'captured', ${"ch_seed_" + a.slice(0, 8)}, ${t(-ago - 2 * D)})`;
  }
  // Payouts: Marcus has an available balance over the minimum; Priya has a payout arriving in 2 days.
  for (let i = 0; i < 3; i++) {
    const a = await appt(marcus, chris, -20 * D - i * D, "completed", { completedAgo: 20 * D + i * D });
    await tx`insert into payments (appointment_id, expert_id, amount_cents, platform_fee_cents, status, stripe_charge_id, captured_at, transferred_at, stripe_transfer_id)
      values (${a}, ${marcus}, 9000, 1800, 'captured', ${"ch_seed_" + a.slice(0, 8)}, ${t(-25 * D)}, ${t(-2 * D)}, ${"tr_seed_" + a.slice(0, 8)})`;
  }
  await tx`insert into payouts (expert_id, payout_date, amount_cents, currency, status, stripe_payout_id, arrival_date)
    values (${priya}, ${day(-1 * D)}, 42000, 'usd', 'in_transit', 'po_seed_priya', ${day(2 * D)})`;
  // A booking left unpaid past its deadline: expired, and its slot hold released.
  await appt(sam, chris, 4 * D, "pending_payment", { due: -30 * 60_000 });
  // Slot holds: one unpaid past expiry (released), one still held, and the lapsed booking's.
  await tx`insert into slot_reservations ${tx([
    { expert_id: lena, client_id: chris, slot_start: t(2 * D), slot_end: t(2 * D + H), status: "held", expires_at: t(-20 * 60_000) },
    { expert_id: marcus, client_id: yuki, slot_start: t(3 * D), slot_end: t(3 * D + H), status: "held", expires_at: t(10 * 60_000) },
    { expert_id: sam, client_id: chris, slot_start: t(4 * D), slot_end: t(4 * D + H), status: "held", expires_at: t(2 * D) },
  ])}`;
  // Calendar tokens: one expiring within the hour (refreshed by keep-alive), one refreshed recently.
  await tx`insert into calendar_connections (expert_id, access_token, refresh_token, expires_at, refreshed_at) values
    (${lena}, 'ya29.seed-old', '1//seed-refresh-lena', ${t(30 * 60_000)}, null),
    (${priya}, 'ya29.seed-fresh', '1//seed-refresh-priya', ${t(50 * 60_000)}, ${t(-H)})`;
  // Blocked dates: past ones go, today and later stay (in each expert's zone).
  await tx`insert into expert_blocked_dates ${tx([
    { expert_id: lena, blocked_on: day(-2 * D), reason: "conference" },
    { expert_id: lena, blocked_on: day(-1 * D), reason: "conference" },
    { expert_id: marcus, blocked_on: day(5 * D), reason: "holiday" },
  ])}`;
  await tx`insert into admin_tasks (kind, payload, run_at) values
    ('send-email', ${tx.json({ seed: "true", to: `ops@${DOMAIN}`, subject: "Monthly export ready", text: "The export you asked for is ready." })}, ${t(-H)}),
    ('notify', ${tx.json({ seed: "true", subscriberId: lena, workflowId: "profile-review", data: { reason: "new photo" } })}, ${t(-H)}),
    ('send-email', ${tx.json({ seed: "true", to: `ops@${DOMAIN}`, subject: "Later", text: "Not due yet." })}, ${t(2 * D)})`;
  await tx`insert into audit_log (at, actor, action, subject) values
    (${t(-120 * D)}, 'seed', 'expert.updated', ${lena}), (${t(-100 * D)}, 'seed', 'payout.created', ${marcus}), (${t(-10 * D)}, 'seed', 'expert.updated', ${priya})`;
  return [
    "marketplace: 4 experts, 4 clients, 16 appointments, payments, a payout, holds, tokens, blocked dates, tasks, audit rows.",
    "  Run the jobs: pnpm job:run appointment-reminders-1hr (and the others); locally, what they send lands in provider_outbox.",
  ];
}
