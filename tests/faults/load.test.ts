import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signJwt } from "../../dev/qstash/sign";
import { claimsFor } from "../support/app";
import { record } from "./support/report";
import { appConnections, rssMiB, sleep, startRig, type Rig } from "./support/rig";

/**
 * Signed deliveries of a cheap job (heartbeat: one ping) at concurrency 20 for 60 s, beside the
 * framework's floor: anonymous diagnostics (a cached answer, no database) at the same concurrency.
 * Sent straight to the app, so the recording front door is not what is measured.
 */
const CONCURRENCY = 20;
const SIGNED_MS = Number(process.env.FAULTS_LOAD_MS ?? 60_000);
const FLOOR_MS = 15_000;
const POOL_MAX = 5;
let rig: Rig;

beforeAll(async () => {
  rig = await startRig("load", { DATABASE_POOL_MAX: String(POOL_MAX), LOG_LEVEL: "error" });
});
afterAll(() => rig?.close());

interface Tally {
  n: number;
  errors: number;
  ms: number[];
  statuses: Record<number, number>;
}

async function hammer(ms: number, send: () => Promise<Response>): Promise<Tally & { perSecond: number }> {
  const t: Tally = { n: 0, errors: 0, ms: [], statuses: {} };
  const until = Date.now() + ms;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < until) {
        const s = Date.now();
        const status = await send().then(
          async (r) => (await r.arrayBuffer(), r.status),
          () => 0,
        );
        t.ms.push(Date.now() - s);
        t.n++;
        t.statuses[status] = (t.statuses[status] ?? 0) + 1;
        if (status !== 200 && status !== 503) t.errors++;
      }
    }),
  );
  return { ...t, perSecond: t.n / ((Date.now() - started) / 1000) };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? 0;

describe("load", () => {
  it(`signed deliveries at concurrency ${CONCURRENCY} beside the diagnostics floor: no errors, one run each, a bounded pool`, { timeout: SIGNED_MS + FLOOR_MS + 60_000 }, async () => {
    const pid = rig.pid();
    let peakConnections = 0;
    let peakRss = 0;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        peakConnections = Math.max(peakConnections, await appConnections(rig));
        peakRss = Math.max(peakRss, rssMiB(pid));
        await sleep(250);
      }
    })();
    const path = "/api/jobs/heartbeat";
    const url = `${rig.front.url}${path}`;
    const ids: string[] = [];
    const signed = () => {
      const id = `msg_load_${randomUUID()}`;
      ids.push(id);
      const signature = signJwt(claimsFor(url, "{}"), rig.qstash.currentSigningKey);
      return fetch(`${rig.app.url}${path}`, { method: "POST", headers: { "content-type": "application/json", "upstash-signature": signature, "upstash-message-id": id }, body: "{}" });
    };
    const floor = await hammer(FLOOR_MS, () => fetch(`${rig.app.url}/api/diagnostics`));
    const load = await hammer(SIGNED_MS, signed);
    watching = false;
    await watch;
    const [runs] = await rig.sql<{ ok: number; other: number }[]>`
      select count(*) filter (where status = 'succeeded')::int as ok, count(*) filter (where status <> 'succeeded')::int as other from job_runs where job = 'heartbeat'`;

    const ratio = load.perSecond / floor.perSecond;
    const line = (t: typeof load) => `${t.perSecond.toFixed(0)}/s p50 ${pct(t.ms, 50)} ms p99 ${pct(t.ms, 99)} ms`;
    record({
      scenario: "load",
      fault: `${CONCURRENCY} concurrent, ${SIGNED_MS / 1000} s signed`,
      deliveries: load.n,
      runsExpected: load.n,
      runsDone: runs!.ok,
      effectsDoubled: 0,
      effectsLost: load.n - runs!.ok,
      maxRequestMs: Math.max(...load.ms),
      notes: `signed ${line(load)}, errors ${load.errors}; diagnostics floor ${line(floor)}; ratio ${(ratio * 100).toFixed(0)}%; peak DB connections ${peakConnections} (pool ${POOL_MAX}); peak RSS ${peakRss.toFixed(0)} MiB`,
    });
    expect(load.statuses).toEqual({ 200: load.n });
    expect(runs).toEqual({ ok: load.n, other: 0 });
    expect(new Set(ids).size).toBe(load.n);
    // One pool per server instance, never more than its size however many requests wait.
    expect(peakConnections).toBeLessThanOrEqual(POOL_MAX);
    expect(floor.errors).toBe(0);
  });
});
