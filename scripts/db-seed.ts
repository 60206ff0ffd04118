import { parseArgs } from "node:util";
import { DateTime } from "luxon";
import postgres from "postgres";
import { loadCliEnv } from "../lib/cli/context";

const HELP = `Usage: pnpm db:seed [--url postgres://...]

Creates a small, realistic marketplace around the current time, so that each job has something to
do on its first runs under pnpm dev: appointments starting within the hour and the day, bookings
awaiting payment (one past its deadline), completed appointments to transfer, a balance to pay out,
a payout arriving soon, an expired slot hold, a calendar token about to expire, past blocked dates,
due admin tasks and old audit rows; and a clinic's patients with forms (one overdue, uncalled).
Running it again replaces the previous seed (rows under @seed.cronlayer.test, patients on
+1 555 01xx), nothing else.

Database: --url, else DATABASE_URL, else the database of the pnpm dev running from this checkout
(.data/stack.json), else postgres://postgres@127.0.0.1:5432/postgres (it says so). Apply migrations first (pnpm db:migrate;
pnpm dev does it).`;

const { values } = parseArgs({ options: { url: { type: "string" }, help: { type: "boolean", short: "h" } } });
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

const DOMAIN = "seed.cronlayer.test";

async function databaseUrl(): Promise<string> {
  if (values.url) return values.url;
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const { env, databaseNote } = loadCliEnv();
  if (databaseNote) console.error(`note: ${databaseNote}`);
  if (env.database.kind !== "postgres") throw new Error("pnpm db:seed needs a Postgres URL: set DATABASE_URL (Supabase: Project Settings -> Database) or pass --url.");
  return env.database.url;
}

const H = 3_600_000;
const D = 24 * H;

async function seed(sql: postgres.Sql, now: Date) {
  const t = (ms: number) => new Date(now.getTime() + ms);
  const day = (ms: number) => t(ms).toISOString().slice(0, 10);
  await sql.begin(async (tx) => {
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
    await seedForms(tx, t);
    await seedCampaign(tx, now);
    await seedShop(tx, t);
    await seedLearners(tx, now);
  });
}

/**
 * The jewellery shop: products (two at or below their threshold), a payment pending 15 minutes
 * that Razorpay's local stand-in reports captured and one it reports failed (recorded in
 * provider_outbox, which the stand-in reads), an expired cart hold, today's sold orders, old read
 * notifications, spent reset tokens and an abandoned unverified account (docs/commerce.md).
 */
async function seedShop(tx: postgres.TransactionSql, t: (ms: number) => Date) {
  const users = await tx`select id from commerce_users where email like ${"%@" + DOMAIN}`;
  const payments = await tx`select p.id from commerce_payments p join commerce_orders o on o.id = p.order_id where o.user_id = any(${users.map((u) => u.id as string)}::uuid[])`;
  await tx`delete from effects where subject = any(${payments.map((p) => p.id as string)}::text[])`;
  await tx`delete from commerce_orders where user_id = any(${users.map((u) => u.id as string)}::uuid[])`;
  await tx`delete from commerce_users where email like ${"%@" + DOMAIN}`;
  await tx`delete from commerce_products where sku like 'SEED-%'`;
  const [asha, rohan, ghost] = (await tx`insert into commerce_users ${tx([
    { email: `asha@${DOMAIN}`, name: "Asha Iyer", verified: true, created_at: t(-90 * D) },
    { email: `rohan@${DOMAIN}`, name: "Rohan Mehta", verified: true, created_at: t(-60 * D) },
    { email: `ghost@${DOMAIN}`, name: "", verified: false, created_at: t(-40 * D) },
  ])} returning id`).map((r) => r.id as string) as [string, string, string];
  const [ruby, chain, pearl, anklet] = (await tx`insert into commerce_products ${tx([
    { sku: "SEED-RUBY-RING", name: "Ruby ring", price: 4_500_000, stock: 3 },
    { sku: "SEED-GOLD-CHAIN", name: "Gold chain", price: 8_200_000, stock: 12 },
    { sku: "SEED-PEARL-EAR", name: "Pearl earrings", price: 1_900_000, stock: 0 },
    { sku: "SEED-SILVER-ANKLET", name: "Silver anklet", price: 350_000, stock: 30 },
  ])} returning id`).map((r) => r.id as string) as [string, string, string, string];
  const order = async (user: string, product: string, price: number, status: string, createdAgo: number, payment?: { id: string; status: string }) => {
    const [o] = await tx`insert into commerce_orders (user_id, status, total, created_at) values (${user}, ${status}, ${price}, ${t(-createdAgo)}) returning id`;
    const id = o!.id as string;
    await tx`insert into commerce_order_items (order_id, product_id, quantity, unit_price) values (${id}, ${product}, 1, ${price})`;
    if (status === "pending") await tx`insert into commerce_inventory_locks (product_id, order_id, user_id, quantity, expires_at) values (${product}, ${id}, ${user}, 1, ${t(20 * 60_000)})`;
    if (payment) {
      await tx`insert into commerce_payments (order_id, transaction_id, amount, status, created_at) values (${id}, ${payment.id}, ${price}, 'pending', ${t(-createdAgo)})`;
      await tx`select provider_outbox_record('razorpay', ${`payment:${payment.id}`}, ${tx.json({ type: "payment", id: payment.id, status: payment.status, amount: price })})`;
    }
  };
  await order(asha, chain, 8_200_000, "pending", 15 * 60_000, { id: "pay_SeedCaptured01", status: "captured" });
  await order(rohan, ruby, 4_500_000, "pending", 30 * 60_000, { id: "pay_SeedFailed0001", status: "failed" });
  await order(asha, pearl, 1_900_000, "processing", 2 * H);
  await order(rohan, anklet, 350_000, "shipped", 3 * H);
  await tx`insert into commerce_inventory_locks (product_id, user_id, quantity, expires_at) values (${anklet}, ${rohan}, 2, ${t(-10 * 60_000)})`;
  await tx`insert into commerce_notifications (user_id, kind, title, body, read_at, created_at) values
    (${asha}, 'promo', 'Diwali collection', 'New pieces are in.', ${t(-40 * D)}, ${t(-41 * D)}),
    (${asha}, 'promo', 'Gift wrapping', 'Free this week.', null, ${t(-2 * D)})`;
  await tx`insert into commerce_password_resets (user_id, token_hash, expires_at, used_at) values
    (${rohan}, ${"seed-expired-" + rohan}, ${t(-H)}, null), (${rohan}, ${"seed-used-" + rohan}, ${t(H)}, ${t(-10 * 60_000)})`;
  await tx`insert into commerce_addresses (user_id, line1, city, postal_code) values (${ghost}, '12 MG Road', 'Pune', '411001')`;
}

/** A three-node campaign (email, wait, notification) with no users yet: schedule them with POST /api/campaigns/<id>/runs (docs/campaigns.md). */
async function seedCampaign(tx: postgres.TransactionSql, now: Date) {
  await tx`delete from campaigns where name = 'Seed: welcome'`;
  const nodes = [
    { id: "welcome_email", type: "email", config: { subject: "Welcome", text: "Glad you are here." }, next: "pause", timeoutSeconds: 86_400 },
    { id: "pause", type: "wait", config: { seconds: 86_400 }, next: "nudge", timing: "immediate" },
    { id: "nudge", type: "notification", config: { workflowId: "campaign-nudge" }, timeoutSeconds: 86_400 },
  ];
  await tx`select campaign_create('Seed: welcome', 'UTC', ${tx.json({ start: "09:00", end: "17:00", days: [1, 2, 3, 4, 5] })}, ${tx.json(nodes)}, ${now})`;
}

/**
 * The clinic: patients on fictional numbers (+1 555 01xx) and their forms: one past its deadline
 * without a call (check-forms picks it up), one submitted, one due in two days. Forms made here have
 * no deadline message; forms made through POST /api/forms do (docs/forms.md).
 */
async function seedForms(tx: postgres.TransactionSql, t: (ms: number) => Date) {
  const old = await tx`select id from forms where patient_id in (select id from patients where phone like '+155501%')`;
  await tx`delete from effects where key = any(${old.map((f) => `call:${f.id as string}`)}::text[])`;
  await tx`delete from patients where phone like '+155501%'`;
  const patients = await tx`insert into patients ${tx([
    { name: "Maria Garcia", phone: "+15550100101", zone: "America/Los_Angeles" },
    { name: "John Smith", phone: "+15550100102", zone: "America/New_York" },
    { name: "Aiko Sato", phone: "+15550100103", zone: "Asia/Tokyo" },
  ])} returning id`;
  const [maria, john, aiko] = patients.map((r) => r.id as string) as [string, string, string];
  await tx`insert into forms ${tx([
    { patient_id: maria, title: "New patient intake", deadline: t(-30 * 60_000), status: "pending" },
    { patient_id: john, title: "Medication history", deadline: t(-H), status: "submitted", submitted_at: t(-2 * H) },
    { patient_id: aiko, title: "Pre-surgery consent", deadline: t(2 * D), status: "pending" },
  ])}`;
}

/**
 * Learners of the language app (docs/engagement.md): five in their first three days (founder
 * emails), one who practised today, and one in a zone whose 09:00 hour holds the next hourly
 * tick, so plan-practice-reminders has someone to remind on its next run.
 */
async function seedLearners(tx: postgres.TransactionSql, now: Date) {
  const old = await tx`select id from learners where email like ${"%@" + DOMAIN}`;
  await tx`delete from effects where subject = any(${old.map((r) => r.id as string)}::text[])`;
  await tx`delete from learners where email like ${"%@" + DOMAIN}`;
  const tick = new Date(Math.ceil(now.getTime() / H) * H);
  const nine = Intl.supportedValuesOf("timeZone").find((z) => DateTime.fromJSDate(tick, { zone: z }).hour === 9) ?? "UTC";
  const ago = (d: number) => new Date(now.getTime() - d * D);
  await tx`insert into learners ${tx([
    { email: `ines@${DOMAIN}`, name: "Inês", language: "es", time_zone: "Europe/Lisbon", signed_up_at: ago(1) },
    { email: `arjun@${DOMAIN}`, name: "Arjun", language: "en", time_zone: "Asia/Kolkata", signed_up_at: ago(2) },
    { email: `mia@${DOMAIN}`, name: "Mia", language: "de", time_zone: "Pacific/Auckland", signed_up_at: ago(3) },
    { email: `leo@${DOMAIN}`, name: "Léo", language: "fr", time_zone: "America/Los_Angeles", signed_up_at: ago(1) },
    { email: `kai@${DOMAIN}`, name: "Kai", language: "en", time_zone: "America/Sao_Paulo", signed_up_at: ago(0.1), last_practised_at: now },
    { email: `nine@${DOMAIN}`, name: "Noor", language: "en", time_zone: nine, signed_up_at: ago(40) },
  ])}`;
}

try {
  const url = await databaseUrl();
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await seed(sql, new Date());
  } finally {
    await sql.end({ timeout: 5 });
  }
  console.log(`seeded ${url.replace(/\/\/[^@]*@/, "//***@")}: 4 experts, 4 clients, 16 appointments, payments, a payout, holds, tokens, blocked dates, tasks, audit rows, 3 patients and their forms.`);
  console.log("Run the jobs: pnpm job:run appointment-reminders-1hr (and the others); locally, what they send lands in provider_outbox.");
  console.log("Forms: pnpm job:run check-forms publishes the call of the overdue form (docs/forms.md).");
  console.log("Shop: pnpm job:run reconcile-stale-payments confirms one pending payment and fails another; check-stock-levels finds two products low (docs/commerce.md).");
  console.log("Learners: pnpm job:run plan-founder-emails plans 4 founder emails; plan-practice-reminders at the next hour reminds one learner (docs/engagement.md).");
  console.log("Campaigns: the seed campaign \"Seed: welcome\" has three nodes and no users yet (docs/campaigns.md).");
} catch (err) {
  const msg = (err as Error).message;
  console.error(`pnpm db:seed failed: ${msg}`);
  if (/relation .* does not exist/.test(msg)) console.error("The schema is missing: run pnpm db:migrate first (pnpm dev does it).");
  if (/ECONNREFUSED|timeout/i.test(msg)) console.error("Is PostgreSQL running? Set DATABASE_URL or pass --url.");
  process.exit(1);
}
