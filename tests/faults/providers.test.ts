import { Client } from "@upstash/qstash";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Fault } from "./support/vendors";
import { record } from "./support/report";
import { startRig, type Rig } from "./support/rig";
import { confirmedOrders, emailsPerOrder } from "./support/shop";

/**
 * The email provider misbehaves for one order each: 500, 429 with Retry-After, a hang past the
 * request timeout, malformed JSON, and an email sent whose answer is lost. Resend honours its
 * Idempotency-Key (24 h), as here. Counted at the edge: emails made per order.
 */
const JOB = "send-order-email";
/** lib/providers/errors.ts requestSignal's default: each vendor request's own bound. */
const REQUEST_TIMEOUT_MS = 15_000;
const PATH = `/api/jobs/${JOB}`;
let rig: Rig;
let client: Client;
const faults = new Map<string, Fault>();

beforeAll(async () => {
  rig = await startRig("providers");
  client = new Client({ baseUrl: rig.qstash.url, token: rig.qstash.token, retry: false, enableTelemetry: false });
  // The first request about each order gets its fault; later ones are served normally.
  const seen = new Set<string>();
  rig.vendors.fault = (call) => {
    const order = /^order:([0-9a-f-]+):/.exec(call.idempotencyKey ?? "")?.[1] ?? "";
    if (call.vendor !== "resend" || call.path !== "/emails" || seen.has(order)) return undefined;
    seen.add(order);
    return faults.get(order);
  };
});
afterAll(() => rig?.close());

const body = (orderId: string) => JSON.stringify({ orderId, status: "confirmed" });
const posts = (order: string) => rig.vendors.calls.filter((c) => c.path === "/emails" && c.idempotencyKey?.includes(order)).length;
const effectOf = async (order: string) =>
  (await rig.sql<{ status: string; attempts: number; wait_s: number }[]>`
    select status, attempts, extract(epoch from next_attempt_at - updated_at)::float as wait_s from effects where key = ${`order:${order}:confirmed`}`)[0];

/** Publishes one message and waits until QStash is done with it (delivered or dead-lettered). */
async function publishAndSettle(order: string, extra: { failureCallback?: string } = {}) {
  const { messageId } = await client.publish({ url: `${rig.front.url}${PATH}`, body: body(order), headers: { "content-type": "application/json" }, retries: 3, retryDelay: "500", ...extra });
  await expect.poll(() => rig.qstash.state.messages[messageId] === undefined, { timeout: 30_000, interval: 200 }).toBe(true);
  return { messageId, exchanges: rig.front.exchanges.filter((e) => e.messageId === messageId) };
}

/** The effect's retry, made now: its backoff is moved to the present and the job runs again. */
async function retryNow(order: string) {
  await rig.sql`update effects set next_attempt_at = now() where key = ${`order:${order}:confirmed`}`;
  return rig.deliver(PATH, body(order));
}

describe("provider failures", () => {
  it("retries a 500 and a lost answer with backoff under the same key, honours Retry-After, bounds a hang, survives malformed JSON: never a second email", { timeout: 90_000 }, async () => {
    const [e500, lost, limited, hang, garbled] = (await confirmedOrders(rig, 5)) as [string, string, string, string, string];
    faults.set(e500, { status: 500 });
    faults.set(lost, { act: true, drop: true });
    faults.set(limited, { status: 429, headers: { "retry-after": "2" } });
    faults.set(hang, { delayMs: 20_000, act: true, status: 200 });
    faults.set(garbled, { act: true, status: 200, body: "{not json" });
    const hangStarted = Date.now();
    const hanging = rig.deliver(PATH, body(hang)).then(async (r) => ({ status: r.status, stats: ((await r.json()) as { stats: unknown }).stats, ms: Date.now() - hangStarted }));

    const rows: { name: string; order: string; first: number; effect: Awaited<ReturnType<typeof effectOf>>; retry: number }[] = [];
    for (const [name, order] of [["HTTP 500", e500], ["answer lost after sending", lost], ["malformed JSON after sending", garbled]] as const) {
      const first = await rig.deliver(PATH, body(order));
      const effect = await effectOf(order);
      const retry = await retryNow(order);
      rows.push({ name, order, first: first.status, effect, retry: retry.status });
    }
    const { exchanges: rl } = await publishAndSettle(limited);
    const waitedMs = rl.length > 1 ? rl[1]!.startedAt - (rl[0]!.startedAt + rl[0]!.ms) : 0;
    const h = await hanging;
    const hangEffect = await effectOf(hang);
    const made = emailsPerOrder(rig);

    for (const r of rows) {
      record({ scenario: "providers", fault: r.name, deliveries: 2, runsExpected: 2, runsDone: 2, effectsDoubled: Math.max(0, (made.get(r.order) ?? 0) - 1), effectsLost: made.get(r.order) ? 0 : 1, maxRequestMs: 0, notes: `first ${r.first} (effect ${r.effect?.status}, retry in ${r.effect?.wait_s.toFixed(0)} s), retry ${r.retry}; ${posts(r.order)} requests` });
    }
    record({ scenario: "providers", fault: "429 Retry-After: 2", deliveries: rl.length, runsExpected: 1, runsDone: 1, effectsDoubled: Math.max(0, (made.get(limited) ?? 0) - 1), effectsLost: made.get(limited) ? 0 : 1, maxRequestMs: Math.max(...rl.map((e) => e.ms)), notes: `answers ${rl.map((e) => e.status).join(", ")}; QStash waited ${(waitedMs / 1000).toFixed(1)} s` });
    record({ scenario: "providers", fault: "provider hangs 20 s", deliveries: 1, runsExpected: 1, runsDone: 1, effectsDoubled: 0, effectsLost: 0, maxRequestMs: h.ms, notes: `answer ${h.status} ${JSON.stringify(h.stats)}; effect ${hangEffect?.status}` });

    for (const r of rows) {
      // The run is done (200) with its effect left for later, a few tens of seconds out, not now.
      expect(r.first).toBe(200);
      expect(["unknown", "failed"]).toContain(r.effect?.status);
      expect(r.effect!.wait_s).toBeGreaterThanOrEqual(25);
      expect(r.retry).toBe(200);
      expect(posts(r.order)).toBe(2);
      expect(made.get(r.order), r.name).toBe(1);
    }
    expect(rl.map((e) => e.status)).toEqual([429, 200]);
    expect(waitedMs).toBeGreaterThanOrEqual(1_900);
    expect(made.get(limited)).toBe(1);
    // The hang is cut by the request's own timeout, well within the job's: its outcome is unknown.
    expect(h.status).toBe(200);
    expect(hangEffect?.status).toBe("unknown");
    expect(h.ms).toBeLessThan(REQUEST_TIMEOUT_MS + 2_000);
  });

  it("sends a non-retryable failure to the DLQ at once: one dead letter, one alert, nothing sent", { timeout: 60_000 }, async () => {
    const missing = "00000000-0000-4000-8000-000000000000";
    const { messageId, exchanges } = await publishAndSettle(missing, { failureCallback: `${rig.front.url}/api/jobs/failed` });
    await expect.poll(() => rig.front.exchanges.filter((e) => e.path === "/api/jobs/failed").length, { timeout: 15_000 }).toBeGreaterThan(0);
    const letters = await rig.sql`select 1 from dead_letters where source_message_id = ${messageId}`;
    // The app's alert for a dead letter is its error log line (what a log drain alerts on); any
    // message it sends to the alert channels is counted beside it, at the edge.
    const alerts = rig.app.output().split("\n").filter((l) => l.includes('"job.dead_letter"') && l.includes(messageId));
    const sent = rig.vendors.calls.filter((c) => c.vendor === "slack" || (c.vendor === "resend" && String(JSON.stringify(c.body.to)).includes("ops@"))).length;
    record({ scenario: "providers", fault: "non-retryable (no such order)", deliveries: exchanges.length, runsExpected: 0, runsDone: 0, effectsDoubled: 0, effectsLost: 0, maxRequestMs: Math.max(...exchanges.map((e) => e.ms)), notes: `answers ${exchanges.map((e) => e.status).join(", ")}; DLQ ${rig.qstash.state.dlq.length}, dead letters ${letters.length}, alerts ${alerts.length} logged, ${sent} sent` });
    expect(exchanges.map((e) => e.status)).toEqual([489]);
    expect(rig.qstash.state.dlq).toHaveLength(1);
    expect(letters).toHaveLength(1);
    expect(alerts).toHaveLength(1);
  });
});
