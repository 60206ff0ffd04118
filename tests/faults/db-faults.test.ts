import { Client } from "@upstash/qstash";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import heartbeat from "../../jobs/system/heartbeat";
import { DEFAULT_DB_TIMEOUTS } from "../../lib/db/timeouts";
import { record } from "./support/report";
import { sleep, startRig, type Rig } from "./support/rig";
import { succeededRuns } from "./support/shop";

/**
 * A steady stream of one-time heartbeat messages through the local QStash server while the path to
 * PostgreSQL is refused, black-holed and frozen for longer than the job's timeout, each followed by
 * a restore. The app is never restarted.
 */
const JOB = "heartbeat";
const PATH = `/api/jobs/${JOB}`;
// The longest a delivery may take: opening the run (one bounded call), the handler under its
// timeout, closing the run (one bounded call).
const BOUND_MS = 2 * DEFAULT_DB_TIMEOUTS.callMs + heartbeat.timeoutMs!;
const RECOVERY_MS = 5_000;
let rig: Rig;

beforeAll(async () => {
  rig = await startRig("db-faults");
});
afterAll(() => rig?.close());

describe("database faults during a stream of deliveries", () => {
  it("answers 2xx only for work done, never 4xx for a fault, within the bound, recovers without a restart, loses nothing", { timeout: 180_000 }, async () => {
    const client = new Client({ baseUrl: rig.qstash.url, token: rig.qstash.token, retry: false, enableTelemetry: false });
    const published: { id: string; at: number }[] = [];
    let streaming = true;
    const stream = (async () => {
      while (streaming) {
        // Retries span the longest fault and a dead attempt's lease; QStash honours Retry-After on top.
        const m = await client.publish({ url: `${rig.front.url}${PATH}`, body: "{}", headers: { "content-type": "application/json" }, retries: 60, retryDelay: "1000" });
        published.push({ id: m.messageId, at: Date.now() });
        await sleep(250);
      }
    })();
    const restores: { fault: string; from: number; at: number; heldMs: number }[] = [];
    const fault = async (name: string, heldMs: number, apply: () => void) => {
      const from = Date.now();
      apply();
      await sleep(heldMs);
      rig.pg.restore();
      restores.push({ fault: name, from, at: Date.now(), heldMs });
      await sleep(4_000);
    };
    await sleep(2_000);
    await fault("refused", 4_000, () => (rig.pg.refuse(), rig.pg.dropAll()));
    await fault("black-holed", 6_000, () => (rig.pg.blackHole(), rig.pg.dropAll()));
    await fault(`frozen ${(heartbeat.timeoutMs! + 2_000) / 1000} s`, heartbeat.timeoutMs! + 2_000, () => rig.pg.freeze());
    streaming = false;
    await stream;
    await expect.poll(() => Object.keys(rig.qstash.state.messages).length, { timeout: 90_000, interval: 500 }).toBe(0);

    const exchanges = rig.front.exchanges.filter((e) => e.path === PATH);
    const runs = await succeededRuns(rig, JOB);
    const succeeded = published.filter((p) => runs.get(p.id) === 1).length;
    const doubled = published.filter((p) => (runs.get(p.id) ?? 0) > 1).length;
    const dead = rig.qstash.state.dlq.length;
    const okWithoutRun = exchanges.filter((e) => e.status >= 200 && e.status < 300 && !runs.has(e.messageId ?? ""));
    const clientErrors = exchanges.filter((e) => e.status >= 400 && e.status < 500 && e.status !== 429);
    const maxMs = Math.max(...exchanges.map((e) => e.ms));
    const recovery = restores.map((r) => {
      const firstOk = exchanges.filter((e) => e.status === 200 && e.startedAt + e.ms >= r.at).map((e) => e.startedAt + e.ms - r.at);
      return { ...r, recoveredMs: firstOk.length ? Math.min(...firstOk) : Infinity };
    });
    // One row per fault: the deliveries made from the fault until 4 s after its restore, and the
    // messages published in that time (each retried until it succeeded or was dead-lettered).
    for (const r of recovery) {
      const inWindow = exchanges.filter((e) => e.startedAt >= r.from && e.startedAt < r.at + 4_000);
      const mine = published.filter((p) => p.at >= r.from && p.at < r.at + 4_000);
      const done = mine.filter((p) => runs.get(p.id) === 1).length;
      const deadHere = rig.qstash.state.dlq.filter((d) => mine.some((p) => p.id === (d as { messageId?: string }).messageId)).length;
      record({
        scenario: "database",
        fault: `${r.fault} (${r.heldMs / 1000} s)`,
        deliveries: inWindow.length,
        runsExpected: mine.length,
        runsDone: done,
        effectsDoubled: mine.filter((p) => (runs.get(p.id) ?? 0) > 1).length,
        effectsLost: mine.length - done - deadHere,
        maxRequestMs: Math.max(0, ...inWindow.map((e) => e.ms)),
        notes: `answers ${tally(inWindow.map((e) => e.status))}; recovered ${(r.recoveredMs / 1000).toFixed(1)} s after restore`,
      });
    }
    record({ scenario: "database", fault: "whole stream", deliveries: exchanges.length, runsExpected: published.length, runsDone: succeeded, effectsDoubled: doubled, effectsLost: published.length - succeeded - dead, maxRequestMs: maxMs, notes: `published ${published.length} = succeeded ${succeeded} + dead-lettered ${dead}` });
    expect(okWithoutRun.map((e) => `${e.status} ${e.messageId} ${e.body}`)).toEqual([]);
    expect(clientErrors.map((e) => `${e.status} ${e.body}`)).toEqual([]);
    expect(maxMs).toBeLessThanOrEqual(BOUND_MS);
    for (const r of recovery) expect(r.recoveredMs, `recovery after ${r.fault}`).toBeLessThanOrEqual(RECOVERY_MS);
    expect(published.length).toBe(succeeded + dead);
    expect(doubled).toBe(0);
  });
});

const tally = (statuses: number[]) =>
  Object.entries(statuses.reduce<Record<number, number>>((t, s) => ((t[s] = (t[s] ?? 0) + 1), t), {}))
    .map(([s, n]) => `${n}x${s}`)
    .join(" ");
