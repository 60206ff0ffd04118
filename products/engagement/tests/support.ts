import { randomUUID } from "node:crypto";
import { http, HttpResponse } from "msw";
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

/** One `POST /emails` as Resend received it, stamped with the QStash server's (manual) clock. */
export interface SentEmail {
  at: number;
  to: string;
  subject: string;
  text: string;
  html: string;
  idempotencyKey: string | null;
  ok: boolean;
}

/**
 * Resend's `POST /emails` at its real host (msw): records every request with the time it arrived
 * on `now` (into `calls`, which may outlive one test's handlers); `respond` may answer a request
 * otherwise (a 500, a 429 with Retry-After).
 */
export function resendAt(now: () => number, respond?: (e: SentEmail, n: number) => Response | undefined, calls: SentEmail[] = []): SentEmail[] {
  server.use(
    http.post(`${RESEND_URL}/emails`, async ({ request }) => {
      if (request.headers.get("authorization") !== `Bearer ${RESEND_KEYS.sendingOnly}`) return resendError(401, "invalid_api_key", "API key is invalid");
      const body = (await request.json()) as { to: string | string[]; subject: string; text: string; html: string };
      const e: SentEmail = { at: now(), to: String(body.to), subject: body.subject, text: body.text, html: body.html, idempotencyKey: request.headers.get("idempotency-key"), ok: true };
      calls.push(e);
      const custom = respond?.(e, calls.length);
      if (custom) {
        e.ok = false;
        return custom;
      }
      return HttpResponse.json({ id: `email-${calls.length}` });
    }),
  );
  return calls;
}

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
