import { randomUUID } from "node:crypto";
import v8 from "node:v8";
import vm from "node:vm";
import postgres from "postgres";
import { appointmentReminderEmail } from "../emails/appointment-reminder";
import job from "../jobs/appointment-reminders";
import { REMINDER_PAGE_SIZE as PAGE } from "../jobs/shared/appointment-reminders";
import { createDeps } from "@/lib/deps";
import { loadEnv } from "@/lib/env";
import { createRegistry } from "@/lib/jobs/registry";
import { runJob } from "@/lib/jobs/run";
import { createProviders } from "@/lib/providers";
import { settleTenths, timeRpc } from "../../../tests/support/settle-times";

/**
 * The 24 h reminder job on N seeded appointments (2 reminders each), against a one-row-at-a-time
 * baseline: select every due appointment, then for each reminder render, send, and record its
 * effect as succeeded with its own statement. Both send through the same no-op sink (nothing is
 * recorded anywhere), so this measures the job (claims, pages, marks, rendering), not a vendor.
 */
export interface RemindersResult {
  appointments: number;
  rows: { name: string; reminders: number; seconds: number; perSecond: number; peakHeapMb: number; statements: string }[];
  /** The job's page settles (effects_finish), mean and median of the first and the last tenth of its pages, ms. */
  settle: ReturnType<typeof settleTenths>;
}

const NOW = new Date("2040-01-15T09:00:00Z");

export async function remindersBench(databaseUrl: string, n = Number(process.env.BENCH_APPOINTMENTS ?? 100_000)): Promise<RemindersResult> {
  const sql = postgres(databaseUrl, { max: 4, onnotice: () => {} });
  await seed(sql, n);
  const env = loadEnv({ APP_ENV: "test", DATABASE_URL: databaseUrl, LOG_LEVEL: "silent" });

  const base = createDeps(env, createRegistry([job], []));
  const settles: [number, number][] = [];
  const deps = { ...base, db: timeRpc(base.db, "effects_finish", settles), providers: createProviders(env, base.db, { sink: "noop" }), clock: () => NOW };
  const jobRun = await measure(async () => {
    const out = await runJob({ job: job.name, payload: {}, trigger: "cli" }, deps);
    if (out.status !== "succeeded") throw new Error(`the job did not succeed: ${JSON.stringify(out)}`);
    return out.stats.sent as number;
  });
  await base.db.close();

  await clearEffects(sql);
  const naive = await measure(() => baseline(sql, deps.providers));
  await clearEffects(sql);
  await sql.end();

  const row = (name: string, m: Awaited<ReturnType<typeof measure>>, statements: string) => ({
    name,
    reminders: m.value,
    seconds: m.seconds,
    perSecond: m.value / m.seconds,
    peakHeapMb: m.peakHeapMb,
    statements,
  });
  return {
    appointments: n,
    settle: settleTenths(settles),
    rows: [
      row("one row at a time (baseline)", naive, `1 select + ${naive.value} inserts`),
      row("appointment-reminders job", jobRun, `${Math.ceil((2 * n) / PAGE) * 3 + 2} (due + claim + settle per page of ${PAGE}, a last due, the next retry)`),
    ],
  };
}

/** The same work without claims or pages: select all due, then one statement per reminder. */
async function baseline(sql: postgres.Sql, providers: ReturnType<typeof createProviders>): Promise<number> {
  const email = providers.email();
  const notify = providers.notify();
  const due = await sql<{ id: string; starts_at: Date; ends_at: Date; recipient: "client" | "expert"; to_id: string; name: string; email: string; time_zone: string; with_name: string }[]>`
    select a.id, a.starts_at, a.ends_at, r.recipient,
           case when r.recipient = 'client' then c.id else e.id end as to_id,
           case when r.recipient = 'client' then c.name else e.name end as name,
           case when r.recipient = 'client' then c.email else e.email end as email,
           case when r.recipient = 'client' then c.time_zone else e.time_zone end as time_zone,
           case when r.recipient = 'client' then e.name else c.name end as with_name
      from appointments a join experts e on e.id = a.expert_id join clients c on c.id = a.client_id
     cross join (values ('client'), ('expert')) r (recipient)
     where a.status = 'confirmed' and a.starts_at > ${NOW} and a.starts_at <= ${new Date(NOW.getTime() + 86_400_000)}
       and not exists (select 1 from effects x where x.key = 'reminder:24h:' || a.id || ':' || r.recipient and x.status = 'succeeded')`;
  const runId = randomUUID();
  for (const r of due) {
    const key = `reminder:24h:${r.id}:${r.recipient}`;
    const message = appointmentReminderEmail({ kind: "24h", recipient: r.recipient, name: r.name, withName: r.with_name, startsAt: r.starts_at, endsAt: r.ends_at, timeZone: r.time_zone });
    await email.send({ to: r.email, ...message, idempotencyKey: key });
    await notify.trigger({ workflowId: "appointment-reminder", subscriber: { id: r.to_id }, payload: { appointmentId: r.id }, transactionId: key });
    await sql`insert into effects (key, job, subject, status, run_id, attempts, finished_at)
              values (${key}, ${job.name}, ${r.id}, 'succeeded', ${runId}, 1, ${NOW})`;
  }
  return due.length;
}

// The live heap is what "bounded memory" is about: sampled after a full GC once a second (the same
// small cost for both approaches), not heapUsed between collections, which mostly measures GC laziness.
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

async function measure(fn: () => Promise<number>) {
  gc();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  const sample = () => {
    gc();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  };
  const timer = setInterval(sample, 1000);
  const started = performance.now();
  const value = await fn();
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  return { value, seconds, peakHeapMb: (peak - before) / 1024 / 1024 };
}

/** N appointments in the 24 h after NOW among 1,000 experts and 5,000 clients in a few zones; replaced on every run. */
async function seed(sql: postgres.Sql, n: number) {
  await clearEffects(sql);
  await sql`delete from experts where email like '%@bench.cronlayer.test'`;
  await sql`delete from clients where email like '%@bench.cronlayer.test'`;
  const zones = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "America/Sao_Paulo"];
  await sql`insert into experts (name, email, time_zone)
            select 'Expert ' || i, 'expert' || i || '@bench.cronlayer.test', (${zones}::text[])[1 + i % 5] from generate_series(1, 1000) i`;
  await sql`insert into clients (name, email, time_zone)
            select 'Client ' || i, 'client' || i || '@bench.cronlayer.test', (${zones}::text[])[1 + (i + 2) % 5] from generate_series(1, 5000) i`;
  await sql`
    with e as (select array_agg(id) ids from experts where email like '%@bench.cronlayer.test'),
         c as (select array_agg(id) ids from clients where email like '%@bench.cronlayer.test')
    insert into appointments (expert_id, client_id, starts_at, ends_at, status)
    select e.ids[1 + i % 1000], c.ids[1 + i % 5000], ${NOW}::timestamptz + make_interval(secs => 60 + (i * 86000.0 / ${n})),
           ${NOW}::timestamptz + make_interval(secs => 3660 + (i * 86000.0 / ${n})), 'confirmed'
      from generate_series(0, ${n} - 1) i, e, c`;
  await sql`vacuum analyze appointments, experts, clients`;
  await sql`checkpoint`;
}

/**
 * Each approach starts from a clean table: a vacuum, as autovacuum (off on some servers) would
 * have done since, and a checkpoint, so that neither pays for writing out what came before it (the
 * seed's 100,000 appointments fell on the job, which runs first).
 */
async function clearEffects(sql: postgres.Sql) {
  await sql`delete from effects where job = ${job.name}`;
  await sql`vacuum analyze effects`;
  await sql`checkpoint`;
}

/** For `pnpm bench reminders` (bench/run.ts finds the products' benches). */
export const bench = {
  name: "reminders",
  async run(databaseUrl: string): Promise<string> {
    const r = await remindersBench(databaseUrl);
    const lines = [
      `\n## 24 h reminders on ${r.appointments.toLocaleString("en-US")} appointments (local PostgreSQL, no-op provider sink)`,
      "| approach | reminders | seconds | reminders/s | peak live heap (MB) | statements |\n|---|---:|---:|---:|---:|---|",
      ...r.rows.map((x) => `| ${x.name} | ${x.reminders} | ${x.seconds.toFixed(1)} | ${x.perSecond.toFixed(0)} | ${x.peakHeapMb.toFixed(1)} | ${x.statements} |`),
    ];
    const [base, job] = r.rows;
    if (base && job) lines.push(`- the job: ${(job.perSecond / base.perSecond).toFixed(1)}x the baseline's reminders per second`);
    const t = r.settle;
    lines.push(
      `- page settle (effects_finish, ${t.pages} pages): first tenth ${t.first.toFixed(1)} ms, last tenth ${t.last.toFixed(1)} ms, last / first = ${(t.last / t.first).toFixed(2)}; ` +
        `medians ${t.firstMedian.toFixed(1)} and ${t.lastMedian.toFixed(1)} ms, last / first = ${(t.lastMedian / t.firstMedian).toFixed(2)}`,
    );
    return lines.join("\n");
  },
};
