import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLOCK_SKEW_SECONDS } from "../../lib/auth/signature";
import { record } from "./support/report";
import { startRig, type Rig } from "./support/rig";

/**
 * QStash signs on its own clock. A token stamped a few seconds ahead of ours (nbf, iat) is taken
 * within the tolerance; one from too far ahead, or expired (even by less than the tolerance), is not.
 */
const PATH = "/api/jobs/heartbeat";
let rig: Rig;

beforeAll(async () => {
  rig = await startRig("clock-skew");
});
afterAll(() => rig?.close());

const now = () => Math.floor(Date.now() / 1000);
const runsOf = async (messageId: string) => (await rig.sql<{ n: number }[]>`select count(*)::int as n from job_runs where message_id = ${messageId}`)[0]!.n;

describe("clock skew", () => {
  it("accepts a signature a few seconds in the future, refuses one too far ahead and an expired one", async () => {
    const ahead = CLOCK_SKEW_SECONDS - 2;
    const cases = [
      { name: `signed ${ahead} s in the future`, claims: { iat: now() + ahead, nbf: now() + ahead, exp: now() + ahead + 300 }, want: 200 },
      { name: `signed ${CLOCK_SKEW_SECONDS + 25} s in the future`, claims: { iat: now() + CLOCK_SKEW_SECONDS + 25, nbf: now() + CLOCK_SKEW_SECONDS + 25, exp: now() + 330 }, want: 401 },
      // Within the tolerance the SDK's Receiver applies to exp: only the app's own check refuses it.
      { name: "expired 2 s ago", claims: { iat: now() - 302, nbf: now() - 302, exp: now() - 2 }, want: 401 },
      { name: "expired 10 min ago", claims: { iat: now() - 900, nbf: now() - 900, exp: now() - 600 }, want: 401 },
    ];
    const results: ((typeof cases)[number] & { status: number; runs: number; ms: number })[] = [];
    for (const [i, c] of cases.entries()) {
      const messageId = `msg_skew_${i}_${Date.now()}`;
      const t = Date.now();
      const res = await rig.deliver(PATH, "{}", { messageId, claims: c.claims });
      results.push({ ...c, status: res.status, ms: Date.now() - t, runs: await runsOf(messageId) });
    }
    for (const r of results) {
      record({ scenario: "clock skew", fault: r.name, deliveries: 1, runsExpected: r.want === 200 ? 1 : 0, runsDone: r.runs, effectsDoubled: 0, effectsLost: 0, maxRequestMs: r.ms, notes: `answer ${r.status}` });
    }
    expect(results.map((r) => [r.name, r.status, r.runs])).toEqual(cases.map((c) => [c.name, c.want, c.want === 200 ? 1 : 0]));
  });
});
