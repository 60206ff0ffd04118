import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import v8 from "node:v8";
import vm from "node:vm";
import postgres from "postgres";
import { practiceReminderEmail } from "../emails/practice-reminder";
import planPracticeReminders from "../jobs/plan-practice-reminders";
import sendPracticeReminder from "../jobs/send-practice-reminder";
import { createDeps } from "@/lib/deps";
import { unsubscribeUrl } from "../lib/unsubscribe-token";
import { LOCAL_QSTASH, loadEnv } from "@/lib/env";
import { jobRoute } from "@/lib/http/job-route";
import { createRegistry } from "@/lib/jobs/registry";
import { runJob, type RunDeps } from "@/lib/jobs/run";
import { createResendProvider } from "@/lib/providers/resend";
import { serveRoutes } from "../../../tests/support/http-app";
import { settleTenths, timeRpc } from "../../../tests/support/settle-times";
import { resendStandIn } from "./resend-stand-in";

/**
 * Practice reminders for N due learners. The planner (plan-practice-reminders through runJob) on
 * 100,000 of them, publishing pages of 100 to the local QStash server in its own process; end to
 * end on 100,000: QStash (its clock sped up) -> the real job route -> send-practice-reminder (one
 * Resend batch per page) -> a Resend stand-in at a fixed latency per request, counting requests
 * and emails apart and each learner's emails. Baseline, the old design: one process, learner
 * after learner, render, send, record, at the same latency per request.
 */
/**
 * The bench runs at the real time, so that QStash (its own clock, sped up from now) and the jobs
 * agree on when a retry is due: learners are seeded in the fixed-offset zone whose local hour is
 * 09 at `at` (Etc/GMT+1 is UTC-1), the others 6 and 12 hours away.
 */
const NOW = new Date();
const etc = (hours: number) => (hours === 0 ? "Etc/GMT" : hours > 0 ? `Etc/GMT-${hours}` : `Etc/GMT+${-hours}`);
const offsetFor = (at: Date, shift = 0) => ((((9 - at.getUTCHours() + shift) % 24) + 36) % 24) - 12;
const zonesAt = (at: Date) => ({ due: [etc(offsetFor(at))], other: [etc(offsetFor(at, 6)), etc(offsetFor(at, 12))] });
const PROVIDER_LATENCY_MS = Number(process.env.BENCH_PROVIDER_LATENCY_MS ?? 100);

export interface EngagementRow {
  name: string;
  emails: number;
  seconds: number;
  perSecond: number;
  requests?: number;
  /** Resend requests (end to end): batches and their replays. */
  emailRequests?: number;
  /** Mean page settle (engagement_sends_finish), first and last tenth of the pages, ms. */
  settle?: { first: number; last: number; pages: number };
  peakRssMb?: number;
  note: string;
}

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

async function seed(sql: postgres.Sql, due: number, other: number, at = NOW) {
  const { due: DUE_ZONES, other: OTHER_ZONES } = zonesAt(at);
  await sql`truncate learners, engagement_sends, effect_batches`;
  await sql`delete from effects where job = ${sendPracticeReminder.name}`;
  await sql`insert into learners (email, name, language, time_zone, signed_up_at)
            select 'bench-' || g || '@example.test', 'Learner ' || g, (array['en','es','fr','de'])[1 + g % 4],
                   (${sql.array(DUE_ZONES)}::text[])[1 + g % ${DUE_ZONES.length}], ${at}::timestamptz - interval '30 days'
              from generate_series(1, ${due}) g`;
  await sql`insert into learners (email, time_zone) select 'bench-other-' || g || '@example.test', (${sql.array(OTHER_ZONES)}::text[])[1 + g % ${OTHER_ZONES.length}]
              from generate_series(1, ${other}) g`;
  await sql`vacuum analyze learners`;
}

/** The local QStash server as its own process (`pnpm qstash:dev`), so its memory is not the planner's. */
async function qstashProcess(timeScale: number): Promise<{ url: string; child: ChildProcess }> {
  // node itself, not the tsx wrapper, so that the kill reaches the server.
  const child = spawn(process.execPath, ["--import", "tsx", "dev/qstash/cli.ts", "--port", "0", "--memory", "--quiet", "--time-scale", String(timeScale)], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`qstash:dev exited with ${code}`)));
    child.stdout!.on("data", (b: Buffer) => {
      const m = /QSTASH_URL=(\S+)/.exec(b.toString());
      if (m) resolve(m[1]!);
    });
  });
  return { url, child };
}

function envFor(databaseUrl: string, qstashUrl: string, appUrl: string, resendUrl: string, rate: number) {
  return loadEnv({
    APP_ENV: "test",
    LOG_LEVEL: "silent",
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_MAX: "8",
    APP_URL: appUrl,
    QSTASH_URL: qstashUrl,
    QSTASH_TOKEN: LOCAL_QSTASH.token,
    QSTASH_CURRENT_SIGNING_KEY: LOCAL_QSTASH.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: LOCAL_QSTASH.nextSigningKey,
    RESEND_API_KEY: "re_bench_0123456789",
    RESEND_BASE_URL: resendUrl,
    EMAIL_FROM: "Bench <bench@example.test>",
    ENGAGEMENT_EMAIL_RATE: String(rate),
  });
}

const registry = createRegistry([planPracticeReminders, sendPracticeReminder], [{ job: planPracticeReminders.name, cron: "0 * * * *", overlap: "allow" }]);

/** A QStash stand-in that accepts batches and delivers nothing: the planner's own cost. */
async function batchSink(): Promise<{ url: string; close(): Promise<void> }> {
  let id = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const batch = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown[];
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(batch.map(() => ({ messageId: `msg_${++id}` }))));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** The planner alone on `n` due learners: seconds, batch requests, peak RSS of this process. */
async function planner(databaseUrl: string, n: number, target: "sink" | "local QStash"): Promise<EngagementRow> {
  const qstash = target === "sink" ? await batchSink() : await qstashProcess(1);
  // The product's own rate: the local server holds what it cannot start yet (its wait list is flat in
  // what it holds), and the destination refuses at once.
  const deps: RunDeps = { ...createDeps(envFor(databaseUrl, qstash.url, "http://127.0.0.1:9", "http://127.0.0.1:9", 2), registry), clock: () => NOW };
  const realFetch = globalThis.fetch;
  let requests = 0;
  globalThis.fetch = (input, init) => {
    if (String(input).includes("/v2/batch")) requests++;
    return realFetch(input, init);
  };
  gc();
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  try {
    const t0 = performance.now();
    const out = await runJob({ job: planPracticeReminders.name, payload: {}, trigger: "cli" }, deps);
    const seconds = (performance.now() - t0) / 1000;
    if (out.status !== "succeeded" || out.stats.planned !== n) throw new Error(`planner: expected ${n} planned, got ${JSON.stringify(out)}`);
    const note = target === "sink" ? "planned: due pages + batches to a sink that accepts them" : "planned: published to the local QStash server (own process)";
    return { name: `plan-practice-reminders, ${n.toLocaleString("en-US")} due`, emails: n, seconds, perSecond: n / seconds, requests, peakRssMb: peak / 2 ** 20, note };
  } finally {
    clearInterval(sampler);
    globalThis.fetch = realFetch;
    if ("child" in qstash) qstash.child.kill("SIGTERM");
    else await qstash.close();
    await deps.db.close();
  }
}

/** Planner -> QStash (time x `scale`) -> job route -> send job (a batch per page) -> Resend, until every email arrived once. */
async function endToEnd(sql: postgres.Sql, databaseUrl: string, n: number, rate: number, scale: number): Promise<EngagementRow> {
  await seed(sql, n, n / 2, new Date());
  const qstash = await qstashProcess(scale);
  // QStash's clock: now, sped up `scale` times. The jobs read the same, so a retry run QStash holds
  // until an effect's backoff has passed finds it due.
  const t0q = Date.now();
  const clock = () => new Date(t0q + (Date.now() - t0q) * scale);
  const resend = await resendStandIn(PROVIDER_LATENCY_MS);
  // The route needs the app's URL in its env, and the app needs the route: the deps come second.
  const ref: { deps?: RunDeps } = {};
  const app = await serveRoutes({ jobs: jobRoute("jobs", async () => ref.deps!) });
  const base = createDeps(envFor(databaseUrl, qstash.url, app.url, resend.url, rate), registry);
  const settles: [number, number][] = [];
  const deps: RunDeps = (ref.deps = { ...base, db: timeRpc(base.db, "engagement_sends_finish", settles), clock });
  try {
    const t0 = performance.now();
    // A failed planner is delivered again by QStash; here it runs again (its pages' deduplication ids make that safe).
    let out = await runJob({ job: planPracticeReminders.name, payload: {}, trigger: "cli" }, deps);
    for (let i = 0; i < 2 && out.status === "failed"; i++) {
      console.error(`e2e planner failed (${JSON.stringify(out)}), running it again`);
      out = await runJob({ job: planPracticeReminders.name, payload: {}, trigger: "cli" }, deps);
    }
    if (out.status !== "succeeded") throw new Error(`e2e planner: ${JSON.stringify(out)}`);
    const deadline = Date.now() + 30 * 60_000;
    while (resend.perRecipient.size < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const seconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 2_000)); // late duplicates would show up here
    const twice = [...resend.perRecipient.values()].filter((c) => c > 1).length;
    if (resend.perRecipient.size !== n || twice) throw new Error(`e2e: ${resend.perRecipient.size} of ${n} learners got an email, ${twice} more than one`);
    const virtual = seconds * scale;
    const requestRate = resend.requests / virtual;
    return {
      name: `end to end, ${n.toLocaleString("en-US")} due, rate ${rate}/s, QStash clock x${scale}`,
      emails: resend.emails,
      seconds,
      perSecond: n / seconds,
      emailRequests: resend.requests,
      settle: settleTenths(settles),
      // Well under the rate: the rate did not limit the run, the machine did.
      note:
        requestRate < rate * 0.9
          ? `unthrottled: the whole path's own pace (${(resend.requests / seconds).toFixed(1)} requests/s)`
          : `${virtual.toFixed(0)} s on QStash's clock: ${requestRate.toFixed(2)} requests/s, ${(n / virtual).toFixed(0)} emails/s at a rate of ${rate}/s`,
    };
  } finally {
    qstash.child.kill("SIGTERM");
    await app.close();
    await resend.close();
    await deps.db.close();
  }
}

/** The old design: one process, one learner at a time: select, render, send, record. */
async function inline(databaseUrl: string, n: number): Promise<EngagementRow> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const mock = await resendStandIn(PROVIDER_LATENCY_MS);
  const env = envFor(databaseUrl, "http://127.0.0.1:9", "http://127.0.0.1:9", mock.url, 2);
  const email = createResendProvider(env.resend!, env.emailFrom!);
  const t0 = performance.now();
  const rows = await sql<{ id: string; email: string; name: string; language: string; time_zone: string; local_date: string }[]>`
    select id, email, name, language, time_zone, to_char(${NOW}::timestamptz at time zone time_zone, 'YYYY-MM-DD') as local_date from learners
     where reminders_opted_in and extract(hour from ${NOW}::timestamptz at time zone time_zone) = 9 order by id limit ${n}`;
  for (const l of rows) {
    const localDate = l.local_date;
    const message = practiceReminderEmail({ name: l.name, language: l.language, timeZone: l.time_zone, localDate, unsubscribeUrl: unsubscribeUrl(env, l.id) });
    const sent = await email.send({ to: l.email, ...message, idempotencyKey: `practice:${l.id}:${localDate}` });
    await sql`insert into engagement_sends (key, learner_id, kind, local_date, email_id, sent_at) values (${`practice:${l.id}:${localDate}`}, ${l.id}, 'practice', ${localDate}, ${sent.id}, now())`;
  }
  const seconds = (performance.now() - t0) / 1000;
  await mock.close();
  await sql.end();
  return { name: `inline one by one (old design), ${n} learners`, emails: n, seconds, perSecond: n / seconds, emailRequests: mock.requests, note: `provider at ${PROVIDER_LATENCY_MS} ms per request` };
}

export async function engagementBench(databaseUrl: string): Promise<EngagementRow[]> {
  const big = Number(process.env.BENCH_ENGAGEMENT_LEARNERS ?? 100_000);
  const e2e = Number(process.env.BENCH_ENGAGEMENT_E2E ?? 100_000);
  // Unthrottled, every page is delivered at once: on 2 cores beside PostgreSQL that is a flood of
  // concurrent runs, so the path's own pace is measured on fewer.
  const fast = Number(process.env.BENCH_ENGAGEMENT_FAST ?? 20_000);
  const scale = Number(process.env.BENCH_ENGAGEMENT_SCALE ?? 2);
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const rows: EngagementRow[] = [];
  try {
    await seed(sql, 300, 0);
    rows.push(await inline(databaseUrl, 300));
    await seed(sql, big, big / 2);
    rows.push(await planner(databaseUrl, big, "sink"));
    rows.push(await planner(databaseUrl, big, "local QStash"));
    rows.push(await endToEnd(sql, databaseUrl, e2e, 2, scale));
    console.error(JSON.stringify(rows.at(-1)));
    rows.push(await endToEnd(sql, databaseUrl, fast, 1_000, 1));
  } finally {
    await sql.end();
  }
  return rows;
}

const ms = (x: number) => x.toFixed(1);

export function engagementReport(rows: EngagementRow[]): string {
  const out = [`\n## Engagement fan-out: practice reminders (local PostgreSQL, local QStash in its own process, Resend stand-in at ${PROVIDER_LATENCY_MS} ms per request)`];
  out.push("| run | emails | seconds | emails/s | QStash publish requests | Resend requests | page settle, first / last tenth (ms) | peak RSS (MB) | note |");
  out.push("|---|---:|---:|---:|---:|---:|---:|---:|---|");
  for (const r of rows) {
    const settle = r.settle ? `${ms(r.settle.first)} / ${ms(r.settle.last)} (${r.settle.pages} pages)` : "-";
    out.push(`| ${r.name} | ${r.emails} | ${r.seconds.toFixed(2)} | ${r.perSecond.toFixed(1)} | ${r.requests ?? "-"} | ${r.emailRequests ?? "-"} | ${settle} | ${r.peakRssMb?.toFixed(0) ?? "-"} | ${r.note} |`);
  }
  const [old, plan, , paced, fast] = rows;
  if (old && plan) {
    out.push(`- the old design would take ${(plan.emails / old.perSecond / 3600).toFixed(1)} h for ${plan.emails.toLocaleString("en-US")} learners in one process; the planner hands them to QStash in ${plan.seconds.toFixed(1)} s`);
  }
  if (paced?.emailRequests) {
    const rate = 2;
    out.push(`- at a provider limit of ${rate} requests/s: ${paced.emails.toLocaleString("en-US")} emails in ${paced.emailRequests} Resend requests (${(paced.emails / paced.emailRequests).toFixed(0)}x fewer requests than emails), each learner exactly once at the stand-in`);
    out.push(`- on Vercel, where each delivery is its own invocation and the rate is the only limit: ${paced.emailRequests} requests / ${rate} per s = ${(paced.emailRequests / rate).toFixed(0)} s, plus the planner's ${plan?.seconds.toFixed(0) ?? "?"} s: about ${((paced.emailRequests / rate + (plan?.seconds ?? 0)) / 60).toFixed(1)} min; one email per request at the same limit (the old design within the limit) would take ${(paced.emails / rate / 3600).toFixed(1)} h`);
  }
  if (old && fast) out.push(`- end to end, unthrottled: ${(fast.perSecond / old.perSecond).toFixed(0)}x the old design's emails per second (${fast.perSecond.toFixed(0)} against ${old.perSecond.toFixed(1)}), each once`);
  for (const r of [paced, fast]) if (r?.settle) out.push(`- page settle (${r.name}): last tenth / first tenth = ${(r.settle.last / r.settle.first).toFixed(2)}`);
  return out.join("\n");
}

/** For `pnpm bench engagement-fan-out` (bench/run.ts finds the products' benches). */
export const bench = { name: "engagement-fan-out", run: async (databaseUrl: string) => engagementReport(await engagementBench(databaseUrl)) };
