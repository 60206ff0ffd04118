import { randomUUID } from "node:crypto";
import { http, HttpResponse, type JsonBodyType } from "msw";
import { ManualClock } from "../../../dev/qstash/server";
import planFounderEmails from "../jobs/plan-founder-emails";
import planPracticeReminders from "../jobs/plan-practice-reminders";
import sendFounderEmail from "../jobs/send-founder-email";
import sendPracticeReminder from "../jobs/send-practice-reminder";
import { jobRoute } from "@/lib/http/job-route";
import { runJob, type RunDeps, type RunOutcome } from "@/lib/jobs/run";
import { startRig, type Rig } from "../../../tests/dev/qstash-harness";
import { RESEND_KEYS, RESEND_URL, resendError } from "../../../tests/mocks/resend";
import { server } from "../../../tests/mocks/server";
import { KEYS, sql, testDeps } from "../../../tests/support/app";
import { serveRoutes } from "../../../tests/support/http-app";

export const ENGAGEMENT_JOBS = [planPracticeReminders, sendPracticeReminder, planFounderEmails, sendFounderEmail];
export const ENGAGEMENT_ENV = { RESEND_API_KEY: RESEND_KEYS.sendingOnly, EMAIL_FROM: "Lingo <hello@mail.example.test>" };

export interface Learner {
  id: string;
  email: string;
  time_zone: string;
}

export async function insertLearner(
  o: { zone?: string; name?: string | null; language?: string; signedUpAt?: Date; optedIn?: boolean; lastPractisedAt?: Date | null; unsubscribedAt?: Date | null } = {},
): Promise<Learner> {
  const row = {
    email: `learner-${randomUUID().slice(0, 8)}@example.test`,
    name: o.name === undefined ? "Ana" : o.name,
    language: o.language ?? "en",
    time_zone: o.zone ?? "UTC",
    signed_up_at: o.signedUpAt ?? new Date("2020-01-01T00:00:00Z"),
    reminders_opted_in: o.optedIn ?? true,
    last_practised_at: o.lastPractisedAt ?? null,
    unsubscribed_at: o.unsubscribedAt ?? null,
  };
  const [l] = await sql()`insert into learners ${sql()(row)} returning id, email, time_zone`;
  return l as Learner;
}

/** Every test starts from no learners, no sends, no effects and no recorded messages. */
export async function resetEngagement(): Promise<void> {
  await sql()`truncate learners, engagement_sends, effects, job_messages`;
}

/** One email as Resend received it (alone or in a batch), stamped with the QStash server's (manual) clock. */
export interface SentEmail {
  at: number;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The request's key: a batch's, for an email sent in one. */
  idempotencyKey: string | null;
  /** Made by this request (false when refused, or answered from an earlier request with the same key). */
  ok: boolean;
  /** Answered from the first request with the same key: not sent again. */
  replayed: boolean;
  /** Which request (1-based) carried it. */
  request: number;
  batch: boolean;
}

/**
 * How a test makes Resend answer one request otherwise: a Response instead of acting (a 500, a
 * 429), `lost` (Resend sends the emails and keeps its answer, the connection drops before it
 * arrives), or `{ ids: n }` (sent and kept in full, but the answer carries only the first n ids).
 */
export type ResendFault = Response | "lost" | { ids: number } | undefined;

/**
 * Resend's `POST /emails` and `POST /emails/batch` at its real host (msw), honouring
 * Idempotency-Key as Resend does: a repeat of a request under its key is answered with the first
 * answer and sends nothing; the same key with another body is a 409. A batch in permissive mode
 * refuses an address at `invalid.test` by index (`errors`), in strict mode the whole request (422).
 * Every email of every request goes into `calls` with the time it arrived on `now` (`calls` may
 * outlive one test's handlers); `respond` sees each email of a request and may answer the request
 * otherwise.
 */
export function resendAt(now: () => number, respond?: (e: SentEmail, n: number) => ResendFault, calls: SentEmail[] = []): SentEmail[] {
  const kept = new Map<string, { body: string; answer: JsonBodyType }>();
  const handle = (batch: boolean) => async ({ request }: { request: Request }) => {
    if (request.headers.get("authorization") !== `Bearer ${RESEND_KEYS.sendingOnly}`) return resendError(401, "invalid_api_key", "API key is invalid");
    const raw = await request.text();
    const bodies = (batch ? JSON.parse(raw) : [JSON.parse(raw)]) as { to: string | string[]; subject: string; text: string; html: string }[];
    const key = request.headers.get("idempotency-key");
    const n = (calls.at(-1)?.request ?? 0) + 1;
    const emails = bodies.map((b): SentEmail => ({ at: now(), to: String(b.to), subject: b.subject, text: b.text, html: b.html, idempotencyKey: key, ok: true, replayed: false, request: n, batch }));
    calls.push(...emails);
    const first = key ? kept.get(key) : undefined;
    if (first) {
      emails.forEach((e) => ((e.ok = false), (e.replayed = true)));
      if (first.body !== raw) return resendError(409, "invalid_idempotent_request", "Same idempotency key used with a different request payload");
      return HttpResponse.json(first.answer);
    }
    let fault: ResendFault;
    for (const e of emails) fault ??= respond?.(e, calls.indexOf(e) + 1);
    if (fault instanceof Response) {
      emails.forEach((e) => (e.ok = false));
      return fault;
    }
    const strict = batch && request.headers.get("x-batch-validation") !== "permissive";
    const refused = emails.flatMap((e, index) => (e.to.endsWith("@invalid.test") ? [{ index, message: "Invalid `to` field." }] : []));
    if (strict && refused.length) {
      emails.forEach((e) => (e.ok = false));
      return resendError(422, "validation_error", "Invalid `to` field.");
    }
    refused.forEach((r) => (emails[r.index]!.ok = false));
    const ids = emails.filter((e) => e.ok).map((e) => ({ id: `email-${calls.indexOf(e) + 1}` }));
    const answer: JsonBodyType = batch ? { data: ids, errors: refused } : (ids[0] ?? null);
    if (key) kept.set(key, { body: raw, answer });
    if (fault === "lost") return HttpResponse.error();
    if (fault) return HttpResponse.json({ data: ids.slice(0, fault.ids), errors: refused });
    return HttpResponse.json(answer);
  };
  server.use(http.post(`${RESEND_URL}/emails/batch`, handle(true)), http.post(`${RESEND_URL}/emails`, handle(false)));
  return calls;
}

/** Emails Resend made (sent once each), leaving out refusals and answers replayed by key. */
export const made = (calls: SentEmail[]) => calls.filter((e) => e.ok);

/** Requests Resend received, whatever it answered. */
export const requestsOf = (calls: SentEmail[]) => new Set(calls.map((e) => e.request)).size;

/**
 * The whole path on one machine: the local QStash server on a manual clock delivers to the real
 * job route behind a real HTTP server; the jobs' clock is the QStash clock. Signatures are stamped
 * with wall time so the route's checks pass while the manual clock is set anywhere.
 */
export interface EngagementStack {
  rig: Rig;
  deps: RunDeps;
  now(): number;
  run(job: string, payload?: unknown): Promise<RunOutcome>;
  close(): Promise<void>;
}

export async function startEngagement(start: Date, env: Record<string, string> = {}): Promise<EngagementStack> {
  const rig = await startRig({ clock: new ManualClock(start), currentSigningKey: KEYS.current, nextSigningKey: KEYS.next, signingNow: Date.now });
  // The route needs the app's URL in its env, and the app needs the route: the deps come second.
  const ref: { deps?: RunDeps } = {};
  const app = await serveRoutes({ jobs: jobRoute("jobs", async () => ref.deps!) });
  const schedules = [
    // Concurrent planners are the point of some tests: the ledger must not skip the second one.
    { job: planPracticeReminders.name, cron: "0 * * * *", overlap: "allow" as const },
    { job: planFounderEmails.name, cron: "0 14 * * *", overlap: "allow" as const },
  ];
  const deps: RunDeps = (ref.deps = {
    ...testDeps(ENGAGEMENT_JOBS, schedules, { APP_URL: app.url, QSTASH_URL: rig.server.url, QSTASH_TOKEN: rig.server.token, ...ENGAGEMENT_ENV, ...env }),
    clock: () => new Date(rig.clock.now()),
  });
  return {
    rig,
    deps,
    now: () => rig.clock.now(),
    run: (job, payload = {}) => runJob({ job, payload, trigger: "cli" }, deps),
    async close() {
      await rig.close();
      await app.close();
      await deps.db.close();
    },
  };
}

/** Sends recorded for a learner, in key order. */
export const sends = (learner: string) =>
  sql()<{ key: string; kind: string; local_date: string | null; step: number | null }[]>`
    select key, kind, to_char(local_date, 'YYYY-MM-DD') as local_date, step from engagement_sends where learner_id = ${learner} order by key`;
