import { randomUUID } from "node:crypto";
import { Client } from "@upstash/qstash";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signJwt } from "../../dev/qstash/sign";
import { claimsFor } from "../support/app";
import { record } from "./support/report";
import { startRig, type Rig } from "./support/rig";
import { confirmedOrders, emailsPerOrder, succeededRuns } from "./support/shop";

/**
 * Duplicate storms against send-order-email (one email per order event, the effect
 * `order:<id>:<status>`). The email provider here forgets idempotency keys, so only the app's own
 * ledger and effects can keep a repeat from reaching the customer.
 */
const JOB = "send-order-email";
const PATH = `/api/jobs/${JOB}`;
let rig: Rig;
let orders: string[];

beforeAll(async () => {
  rig = await startRig("duplicates");
  rig.vendors.honourKeys = false;
  orders = await confirmedOrders(rig, 52);
});
afterAll(() => rig?.close());

const body = (orderId: string) => JSON.stringify({ orderId, status: "confirmed" });
/** The longest request of this test (the front door records every one since the app started). */
const maxSince = (t: number) => Math.max(0, ...rig.front.exchanges.filter((e) => e.startedAt >= t).map((e) => e.ms));

/** Delivers again, as QStash would, every delivery answered 429 (in flight), until none is left. */
async function redeliverUntilDone(statuses: number[], again: () => Promise<Response>): Promise<number> {
  let pending = statuses.filter((s) => s === 429).length;
  let sent = 0;
  for (let round = 0; pending > 0 && round < 60; round++) {
    await new Promise((r) => setTimeout(r, 500));
    const next = await Promise.all(Array.from({ length: pending }, again));
    sent += next.length;
    pending = next.filter((r) => r.status === 429).length;
  }
  expect(pending).toBe(0);
  return sent;
}

describe("duplicate storms", () => {
  it("50 concurrent deliveries of one message with one signature: one run, one email", async () => {
    const t0 = Date.now();
    const [order] = orders;
    const messageId = `msg_${randomUUID()}`;
    const signature = signJwt(claimsFor(`${rig.front.url}${PATH}`, body(order!)), rig.qstash.currentSigningKey);
    const answers = await Promise.all(Array.from({ length: 50 }, () => rig.deliver(PATH, body(order!), { messageId, signature })));
    const statuses = answers.map((a) => a.status);
    const runs = (await succeededRuns(rig, JOB)).get(messageId) ?? 0;
    const emails = emailsPerOrder(rig).get(order!) ?? 0;
    record({ scenario: "duplicates", fault: "50x same message, same signature", deliveries: 50, runsExpected: 1, runsDone: runs, effectsDoubled: Math.max(0, emails - 1), effectsLost: emails ? 0 : 1, maxRequestMs: maxSince(t0), notes: tally(statuses) });
    // One delivery runs; a replayed signature is refused, never run.
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(runs).toBe(1);
    expect(emails).toBe(1);
  });

  it("50 concurrent deliveries of one message id with fresh signatures: one run, one email, the rest 200 once it is done", async () => {
    const t0 = Date.now();
    const order = orders[1]!;
    const messageId = `msg_${randomUUID()}`;
    const once = () => rig.deliver(PATH, body(order), { messageId, retried: 1 });
    const statuses = (await Promise.all(Array.from({ length: 50 }, once))).map((a) => a.status);
    // In flight is not done: 429 makes QStash keep the message, and its redelivery is then a duplicate.
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    const again = await redeliverUntilDone(statuses, once);
    const runs = (await succeededRuns(rig, JOB)).get(messageId) ?? 0;
    const emails = emailsPerOrder(rig).get(order) ?? 0;
    record({ scenario: "duplicates", fault: "50x same message id, fresh signatures", deliveries: 50 + again, runsExpected: 1, runsDone: runs, effectsDoubled: Math.max(0, emails - 1), effectsLost: emails ? 0 : 1, maxRequestMs: maxSince(t0), notes: tally(statuses) });
    expect(runs).toBe(1);
    expect(emails).toBe(1);
  });

  it("50 one-time messages of one job published at once through QStash: 50 runs, 50 emails", async () => {
    const t0 = Date.now();
    const batch = orders.slice(2);
    const client = new Client({ baseUrl: rig.qstash.url, token: rig.qstash.token, retry: false, enableTelemetry: false });
    const published = await Promise.all(batch.map((o) => client.publish({ url: `${rig.front.url}${PATH}`, body: body(o), headers: { "content-type": "application/json" }, retries: 5, retryDelay: "500" })));
    const ids = published.map((p) => p.messageId);
    await expect.poll(() => Object.keys(rig.qstash.state.messages).length, { timeout: 60_000, interval: 250 }).toBe(0);
    const runs = await succeededRuns(rig, JOB);
    const perOrder = emailsPerOrder(rig);
    const done = ids.filter((id) => runs.get(id) === 1).length;
    const doubled = batch.filter((o) => (perOrder.get(o) ?? 0) > 1).length;
    const lost = batch.filter((o) => !perOrder.get(o)).length;
    const deliveries = rig.front.exchanges.filter((e) => ids.includes(e.messageId ?? "")).length;
    record({ scenario: "duplicates", fault: "50 one-time messages at once", deliveries, runsExpected: 50, runsDone: done, effectsDoubled: doubled, effectsLost: lost, maxRequestMs: maxSince(t0), notes: `dlq ${rig.qstash.state.dlq.length}` });
    expect(rig.qstash.state.dlq).toHaveLength(0);
    expect(done).toBe(50);
    expect({ doubled, lost }).toEqual({ doubled: 0, lost: 0 });
  });
});

const tally = (statuses: number[]) =>
  Object.entries(statuses.reduce<Record<number, number>>((t, s) => ((t[s] = (t[s] ?? 0) + 1), t), {}))
    .map(([s, n]) => `${n}x${s}`)
    .join(" ");
