import { randomUUID } from "node:crypto";
import { HttpResponse } from "msw";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sql } from "../../../tests/support/app";
import { made, requestsOf, resendAt, resetEngagement, startEngagement, type EngagementStack, type SentEmail } from "./support";

/**
 * Exactly once at the provider's edge with emails in batches: what Resend made is counted per
 * learner (msw's Resend honours Idempotency-Key as Resend does), whatever the answers said.
 */
const START = new Date("2027-06-10T07:00:00Z");
const NINE_LISBON = Date.parse("2027-06-10T08:00:00Z");
const DATE = "2027-06-10";
const SEND = "send-practice-reminder";

let s: EngagementStack;
beforeEach(async () => {
  await resetEngagement();
  s = await startEngagement(START);
});
afterEach(() => s.close());

/** `n` learners due at 09:00 Lisbon, in the planner's order (zone, id); `extra` rows as given. */
async function learners(n: number, extra: { email: string }[] = []): Promise<{ id: string; email: string }[]> {
  await sql()`insert into learners (email, time_zone) select 'batch-' || g || '@example.test', 'Europe/Lisbon' from generate_series(1, ${n}) g`;
  for (const e of extra) await sql()`insert into learners (email, time_zone) values (${e.email}, 'Europe/Lisbon')`;
  return sql()<{ id: string; email: string }[]>`select id, email from learners order by time_zone, id`;
}

/** Emails Resend made per address: every learner must have exactly one. */
function perLearner(emails: SentEmail[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of made(emails)) m.set(e.to, (m.get(e.to) ?? 0) + 1);
  return m;
}

const statuses = async () =>
  Object.fromEntries((await sql()<{ status: string; n: number }[]>`select status, count(*)::int as n from effects where job = ${SEND} group by status`).map((r) => [r.status, r.n]));

const page = (ls: { id: string }[]) => ({ recipients: ls.map((l) => ({ learnerId: l.id, localDate: DATE })) });

/** The state a run leaves when it dies holding its claims: claimed, its lease passed. */
const dieHolding = () => sql()`update effects set status = 'claimed', lease_until = ${new Date(s.now() - 1_000)}, next_attempt_at = null where job = ${SEND}`;

describe("emails in batches: exactly once at Resend", () => {
  it("a lost answer mid-run leaves exactly its batch unknown; the retry sends that batch again under its key and Resend answers without sending", async () => {
    const ls = await learners(250);
    const emails = resendAt(s.now, (e) => (e.request === 2 ? "lost" : undefined));
    await s.rig.clock.advanceTo(NINE_LISBON);
    expect(await s.run("plan-practice-reminders")).toMatchObject({ stats: { planned: 250, messages: 3 } });
    await s.rig.clock.advance(5_000);
    expect(requestsOf(emails)).toBe(3);
    // Resend made all 250; the second answer never arrived, so its 100 are unknown, and only they.
    expect(await statuses()).toEqual({ succeeded: 150, unknown: 100 });
    const lostKey = emails.find((e) => e.request === 2)!.idempotencyKey;

    await s.rig.clock.advance(3 * 60_000);
    expect(requestsOf(emails)).toBe(4);
    const replay = emails.filter((e) => e.request === 4);
    expect(replay).toHaveLength(100);
    expect(replay.every((e) => e.replayed && e.idempotencyKey === lostKey)).toBe(true);
    expect(await statuses()).toEqual({ succeeded: 250 });
    const counts = perLearner(emails);
    expect(ls.map((l) => counts.get(l.email) ?? 0)).toEqual(ls.map(() => 1));
    const [sent] = await sql()<{ n: number; ids: number }[]>`select count(*)::int as n, count(distinct email_id)::int as ids from engagement_sends`;
    expect(sent).toEqual({ n: 250, ids: 250 });
    // 250 emails in 4 requests; nothing more comes.
    await s.rig.clock.advance(3_600_000);
    expect(requestsOf(emails)).toBe(4);
  });

  it("a partial answer: ids it gives succeed, a refused address is abandoned, the emails it says nothing about are unknown and reconciled by the same request", async () => {
    const ls = await learners(60, [{ email: "nobody@invalid.test" }]);
    const emails = resendAt(s.now, (e) => (e.request === 1 ? { ids: 25 } : undefined));
    await s.rig.clock.advanceTo(NINE_LISBON);
    await s.run("plan-practice-reminders");
    await s.rig.clock.advance(5_000);
    expect(requestsOf(emails)).toBe(1);
    expect(await statuses()).toEqual({ succeeded: 25, unknown: 35, abandoned: 1 });
    const [refused] = await sql()<{ last_error: string }[]>`select last_error from effects where status = 'abandoned'`;
    expect(refused!.last_error).toMatch(/refused it: Invalid `to` field/);

    await s.rig.clock.advance(3 * 60_000);
    expect(requestsOf(emails)).toBe(2);
    expect(await statuses()).toEqual({ succeeded: 60, abandoned: 1 });
    const counts = perLearner(emails);
    expect(ls.map((l) => counts.get(l.email) ?? 0)).toEqual(ls.map((l) => (l.email.endsWith("@invalid.test") ? 0 : 1)));
    const [run] = await sql()<{ stats: { reconciled: number; sent: number } }[]>`
      select stats from job_runs where job = ${SEND} and status = 'succeeded' order by started_at desc limit 1`;
    expect(run!.stats).toMatchObject({ sent: 35, reconciled: 35 });
  });

  it("a run that died between its claims and its request: the next delivery sends the page once, as new", async () => {
    const ls = await learners(30);
    const emails = resendAt(s.now);
    await s.rig.clock.advanceTo(NINE_LISBON);
    // The dead run claimed every key (its lease now passed) and never recorded or sent a batch.
    await s.deps.db.rpc("effects_claim", {
      p_job: SEND,
      p_run_id: randomUUID(),
      p_now: new Date(s.now() - 120_000),
      p_lease_ms: 60_000,
      p_items: ls.map((l) => ({ key: `practice:${l.id}:${DATE}` })),
    });
    expect(await s.run(SEND, page(ls))).toMatchObject({ status: "succeeded", stats: { sent: 30, reconciled: 0, requests: 1 } });
    expect(requestsOf(emails)).toBe(1);
    expect([...perLearner(emails).values()]).toEqual(ls.map(() => 1));
  });

  it("a run that died while its batch was at Resend: the next delivery asks with the same request and sends nothing again", async () => {
    const ls = await learners(40);
    const emails = resendAt(s.now, (e) => (e.request === 1 ? "lost" : undefined));
    await s.rig.clock.advanceTo(NINE_LISBON);
    await s.run(SEND, page(ls));
    await dieHolding();
    expect(await s.run(SEND, page(ls))).toMatchObject({ status: "succeeded", stats: { sent: 40, reconciled: 40, requests: 1 } });
    expect(emails.filter((e) => e.request === 2).every((e) => e.replayed && e.idempotencyKey === emails[0]!.idempotencyKey)).toBe(true);
    expect([...perLearner(emails).values()]).toEqual(ls.map(() => 1));
  });

  it("a run that died after recording its batch, before Resend got it: the same request now sends it, once", async () => {
    const ls = await learners(40);
    // The connection fails before Resend acts: nothing made, nothing kept under the key.
    const emails = resendAt(s.now, (e) => (e.request === 1 ? HttpResponse.error() : undefined));
    await s.rig.clock.advanceTo(NINE_LISBON);
    await s.run(SEND, page(ls));
    expect(made(emails)).toEqual([]);
    await dieHolding();
    // Learners who practised since are still in the request: it must be the same one to be asked again.
    await sql()`update learners set last_practised_at = ${new Date(s.now())} where id = ${ls[0]!.id}`;
    expect(await s.run(SEND, page(ls))).toMatchObject({ status: "succeeded", stats: { sent: 39, reconciled: 39, requests: 1, dropped: 1 } });
    expect(emails.filter((e) => e.request === 2).map((e) => [e.replayed, e.idempotencyKey])).toEqual(ls.map(() => [false, emails[0]!.idempotencyKey]));
    expect([...perLearner(emails).values()]).toEqual(ls.map(() => 1));
  });

  it("an email in question from before batches (sent alone, keyed by its effect) is asked again alone, under that key", async () => {
    const [l] = await learners(1);
    const emails = resendAt(s.now);
    await s.rig.clock.advanceTo(NINE_LISBON);
    const key = `practice:${l!.id}:${DATE}`;
    const past = new Date(s.now() - 60_000);
    await sql()`insert into effects (key, job, subject, status, attempts, max_attempts, next_attempt_at, last_error, created_at, updated_at)
                values (${key}, ${SEND}, ${l!.id}, 'unknown', 1, 6, ${past}, 'ProviderError: network error', ${past}, ${past})`;
    // What the migration records for such an effect.
    await sql()`insert into effect_batches (key, job, keys, attempt_numbers, single, created_at) values (${key}, ${SEND}, ${[key]}, ${[1]}, true, ${past})`;
    expect(await s.run(SEND, page([l!]))).toMatchObject({ status: "succeeded", stats: { sent: 1, reconciled: 1, requests: 1 } });
    expect(emails.map((e) => [e.batch, e.idempotencyKey])).toEqual([[false, key]]);
  });
});
