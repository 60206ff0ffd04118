import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUN_LEASE_MS } from "../../lib/jobs/lease";
import { record } from "./support/report";
import { sleep, startRig, type Rig } from "./support/rig";

/**
 * kill -9 of the app in the middle of process-expert-transfers over thousands of payments, at the
 * worst moment: a transfer request has reached Stripe and its answer will never be read. Then a
 * restart and QStash's redeliveries of the same message until it is done. Stripe here has
 * forgotten every idempotency key (as it does after 24 h), so a transfer sent twice is paid twice:
 * only the app's reconciliation keeps money from moving twice.
 */
const PAYMENTS = 2_000;
const KILL_AT = 600;
const JOB = "process-expert-transfers";
const PATH = `/api/cron/${JOB}`;
let rig: Rig;

beforeAll(async () => {
  rig = await startRig("crash", { TRANSFER_HOLD_DAYS: "0" });
  rig.vendors.honourKeys = false;
  // Slow enough that transfers are in flight when the process dies.
  rig.vendors.delayMs = 5;
  const [e] = await rig.sql<{ id: string }[]>`insert into experts (name, email, time_zone, currency, stripe_account_id) values ('Crash Expert', 'crash@example.test', 'UTC', 'usd', 'acct_crash') returning id`;
  const [c] = await rig.sql<{ id: string }[]>`insert into clients (name, email, time_zone) values ('Crash Client', 'client@example.test', 'UTC') returning id`;
  await rig.sql`
    with a as (
      insert into appointments (expert_id, client_id, starts_at, ends_at, status, completed_at)
      select ${e!.id}, ${c!.id}, now() - interval '3 hours', now() - interval '2 hours', 'completed', now() - interval '1 hour' - i * interval '1 ms'
        from generate_series(1, ${PAYMENTS}) i
      returning id)
    insert into payments (appointment_id, expert_id, amount_cents, platform_fee_cents, currency, status, stripe_charge_id, captured_at)
    select a.id, ${e!.id}, 10000, 2000, 'usd', 'captured', 'ch_' || md5(a.id::text), now() from a`;
});
afterAll(() => rig?.close());

const transferPosts = () => rig.vendors.calls.filter((c) => c.vendor === "stripe" && c.method === "POST");

describe("kill -9 in the middle of a batch", () => {
  it("pays every payment exactly once after a restart and redeliveries, and frees the job within one lease", { timeout: 150_000 }, async () => {
    const messageId = `msg_${randomUUID()}`;
    const scheduleId = `faults-${JOB}`;
    let killedAt = 0;
    const pid = rig.pid();
    rig.vendors.onCall = (c) => {
      if (c.vendor === "stripe" && c.method === "POST" && transferPosts().length === KILL_AT) {
        killedAt = Date.now();
        process.kill(pid, "SIGKILL");
      }
    };
    const first = await rig.deliver(PATH, "{}", { messageId, scheduleId });
    expect(killedAt, "the app was killed mid batch").toBeGreaterThan(0);
    expect(first.status).toBe(502);
    rig.vendors.onCall = () => {};
    await rig.restart();

    // QStash redelivers the message (same id, a fresh signature each time) until it gets a 2xx.
    let retried = 0;
    let last: Response | undefined;
    const answers: number[] = [];
    while (retried < 100) {
      last = await rig.deliver(PATH, "{}", { messageId, scheduleId, retried: ++retried });
      answers.push(last.status);
      if (last.status < 300) break;
      expect(last.status, await last.clone().text()).toBe(429);
      // QStash would wait Retry-After; polling sooner only measures the takeover more closely.
      await sleep(Math.min(Number(last.headers.get("retry-after") ?? 1), 2) * 1000);
    }
    expect(last?.status).toBe(200);
    const [takeover] = await rig.sql<{ started_at: Date }[]>`
      select started_at from job_runs where job = ${JOB} and message_id = ${messageId} and status = 'succeeded'`;
    const freedAfterMs = takeover!.started_at.getTime() - killedAt;

    const perPayment = new Map<string, number>();
    for (const t of rig.vendors.transfers) perPayment.set(t.metadata.payment_id!, (perPayment.get(t.metadata.payment_id!) ?? 0) + 1);
    const [db] = await rig.sql<{ transferred: number }[]>`select count(*)::int as transferred from payments where transferred_at is not null`;
    const doubled = [...perPayment.values()].filter((n) => n > 1).length;
    const lost = PAYMENTS - perPayment.size;
    const stats = ((await last!.json()) as { stats: Record<string, unknown> }).stats;
    record({
      scenario: "crash",
      fault: `kill -9 at transfer ${KILL_AT} of ${PAYMENTS}`,
      deliveries: answers.length + 1,
      runsExpected: 1,
      runsDone: 1,
      effectsDoubled: doubled,
      effectsLost: lost,
      maxRequestMs: Math.max(...rig.front.exchanges.map((e) => e.ms)),
      notes: `job freed ${(freedAfterMs / 1000).toFixed(1)} s after the kill (lease ${RUN_LEASE_MS / 1000} s); ${transferPosts().length} transfer requests; second run: ${JSON.stringify(stats)}`,
    });
    expect({ doubled, lost, transferredInDb: db!.transferred }).toEqual({ doubled: 0, lost: 0, transferredInDb: PAYMENTS });
    // The dead run's lease lapses unrenewed; a redelivery takes the job over within one lease (and one poll).
    expect(freedAfterMs).toBeLessThanOrEqual(RUN_LEASE_MS + 5_000);
    const [running] = await rig.sql<{ n: number }[]>`select count(*)::int as n from job_runs where status = 'running'`;
    expect(running!.n).toBe(0);
  });
});
