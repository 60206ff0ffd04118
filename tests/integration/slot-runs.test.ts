import { Client } from "@upstash/qstash";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { startQStashServer, type QStashServer } from "../../dev/qstash/server";
import { signJwt } from "../../dev/qstash/sign";
import { jobRoute } from "../../lib/http/job-route";
import { defineJob } from "../../lib/jobs/define";
import type { RunDeps } from "../../lib/jobs/run";
import { publishSlotRun, publishSlotRuns } from "../../lib/qstash/slot-runs";
import { claimsFor, CRON_SECRET, KEYS, ledger, testDeps, uniqueName } from "../support/app";
import { serveRoutes } from "../support/http-app";

/**
 * Slot runs end to end: published through the local QStash server (which signs the URL with its
 * query, as QStash does), delivered over HTTP to the real job route, recorded with their slot.
 */
const daily = uniqueName("slot-daily");
const event = uniqueName("slot-event");
const seen: { trigger: string; slotAt: string | undefined }[] = [];
let running = 0;
let mostAtOnce = 0;
const jobs = [
  defineJob({
    name: daily,
    description: "a report per Berlin day",
    overlap: "allow",
    handler: async ({ run }) => {
      mostAtOnce = Math.max(mostAtOnce, ++running);
      // Long enough that deliveries without flow control would overlap.
      await new Promise((r) => setTimeout(r, 150));
      running--;
      seen.push({ trigger: run.trigger, slotAt: run.slotAt?.toISOString() });
      return { slot: run.slotAt?.toISOString() ?? null };
    },
  }),
  defineJob({ name: event, description: "no schedule", payload: z.object({}).optional(), handler: async () => ({}) }),
];
// 09:00 in Berlin: 08:00Z in winter.
const slot = (day: number) => new Date(Date.UTC(2026, 11, day, 8, 0, 0));

let qstash: QStashServer;
let client: Client;
let app: Awaited<ReturnType<typeof serveRoutes>>;
let deps: RunDeps;
beforeAll(async () => {
  app = await serveRoutes({ jobs: jobRoute("jobs", async () => deps), cron: jobRoute("cron", async () => deps) });
  qstash = await startQStashServer({ port: 0, currentSigningKey: KEYS.current, nextSigningKey: KEYS.next });
  client = new Client({ baseUrl: qstash.url, token: qstash.token, retry: false, enableTelemetry: false });
  deps = testDeps(jobs, [{ job: daily, cron: "CRON_TZ=Europe/Berlin 0 9 * * *", retries: 2 }], { APP_URL: app.url, QSTASH_URL: qstash.url, QSTASH_TOKEN: qstash.token });
});
afterAll(async () => {
  await qstash?.close();
  await app?.close();
  await deps?.db.close();
});

const publishDeps = () => ({ env: deps.env, registry: deps.registry, client });
const settled = async (job: string) => (await ledger(job)).filter((r) => r.status !== "running");

/** A request as QStash would deliver it, signed for `signedFor` and sent to `path` (default: the same). */
function signed(signedFor: string, path = signedFor, body = "{}") {
  const url = `${app.url}${signedFor}`;
  return fetch(`${app.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "upstash-signature": signJwt(claimsFor(url, body), KEYS.current), "upstash-message-id": `msg_${uniqueName("t")}`, "upstash-retried": "0" },
    body,
  });
}
const slotPath = (job: string, at: string, trigger = "backfill") => `/api/jobs/${job}?slot=${encodeURIComponent(at)}&trigger=${encodeURIComponent(trigger)}`;

describe("publishSlotRun", () => {
  it("publishes /api/jobs/<job>?slot=&trigger= with the empty payload, the schedule's retries, the failure callback and a slot's deduplication id", async () => {
    const at = slot(1);
    const first = await publishSlotRun(publishDeps(), daily, at, "backfill", { notBefore: new Date(Date.now() + 3_600_000) });
    const m = qstash.state.messages[first.messageId]!;
    expect(m).toMatchObject({
      url: `${app.url}/api/jobs/${daily}?slot=2026-12-01T08%3A00%3A00.000Z&trigger=backfill`,
      retries: 2,
      failureCallback: `${app.url}/api/jobs/failed`,
      labels: [daily],
    });
    expect(Buffer.from(m.bodyBase64, "base64").toString()).toBe("{}");
    expect(first.deduplicated).toBe(false);
    // The same slot again within QStash's window: the message it already holds.
    expect(await publishSlotRun(publishDeps(), daily, at, "backfill")).toEqual({ messageId: first.messageId, deduplicated: true });
    await client.messages.delete(first.messageId);
  });

  it("refuses an unscheduled job and an unknown one before sending anything", async () => {
    await expect(publishSlotRun(publishDeps(), event, slot(1), "catch-up")).rejects.toThrow(`cannot publish a catch-up run of ${event}: it has no schedule, so it has no slots`);
    await expect(publishSlotRun(publishDeps(), "no-such-job", slot(1), "catch-up")).rejects.toThrow('cannot publish unknown job "no-such-job"');
  });

  it("a delivered slot run is recorded with its trigger and slot, and the handler sees the slot", async () => {
    await publishSlotRun(publishDeps(), daily, slot(2), "catch-up");
    await expect.poll(async () => (await settled(daily)).length, { timeout: 10_000 }).toBe(1);
    const [row] = await ledger(daily);
    expect(row).toMatchObject({ trigger: "catch-up", status: "succeeded", slot_at: slot(2), stats: { slot: "2026-12-02T08:00:00.000Z" } });
    expect(seen).toContainEqual({ trigger: "catch-up", slotAt: "2026-12-02T08:00:00.000Z" });
  });
});

describe("publishSlotRuns", () => {
  it("runs every slot once, one at a time under flow control backfill-<job>", { timeout: 30_000 }, async () => {
    mostAtOnce = 0;
    const slots = [slot(10), slot(11), slot(12), slot(13)];
    const r = await publishSlotRuns(publishDeps(), daily, slots, "backfill");
    expect(r.messageIds).toHaveLength(4);
    expect(r.deduplicated).toBe(0);
    const flow = Object.values(qstash.state.messages).filter((m) => r.messageIds.includes(m.messageId)).map((m) => m.flow);
    for (const f of flow) expect(f).toMatchObject({ key: `backfill-${daily}`, parallelism: 1 });
    await expect.poll(async () => (await settled(daily)).filter((x) => x.trigger === "backfill").length, { timeout: 20_000 }).toBe(4);
    const rows = (await ledger(daily)).filter((x) => x.trigger === "backfill");
    expect(rows.map((x) => [x.status, x.slot_at?.toISOString()]).sort()).toEqual(slots.map((s) => ["succeeded", s.toISOString()]));
    expect(mostAtOnce).toBe(1);
  });
});

describe("the job route's slot parameters", () => {
  const refused = async (res: Response, error: RegExp | string) => {
    expect(res.status).toBe(489);
    expect(res.headers.get("upstash-nonretryable-error")).toBe("true");
    expect(((await res.json()) as { error: string }).error).toMatch(error);
  };

  it("refuses, non-retryably and running nothing, a slot that is not a tick, a bad trigger, a bad instant, an unscheduled job", async () => {
    const before = (await ledger(daily)).length;
    await refused(await signed(slotPath(daily, "2026-12-01T08:30:00.000Z")), `slot 2026-12-01T08:30:00.000Z is not a tick of ${daily}'s schedule "0 9 * * *" (Europe/Berlin) (the tick at or before it is 2026-12-01T08:00:00.000Z)`);
    await refused(await signed(slotPath(daily, slot(1).toISOString(), "manual")), 'trigger must be one of catch-up, backfill with a slot, got "manual"');
    await refused(await signed(`/api/jobs/${daily}?slot=${encodeURIComponent(slot(1).toISOString())}`), "trigger must be one of catch-up, backfill with a slot, got none");
    await refused(await signed(`/api/jobs/${daily}?trigger=backfill`), "slot must be an ISO 8601 instant such as 2026-12-01T06:00:00.000Z, got none");
    await refused(await signed(slotPath(daily, "yesterday")), 'slot must be an ISO 8601 instant such as 2026-12-01T06:00:00.000Z, got "yesterday"');
    await refused(await signed(slotPath(daily, "2026-12-01")), 'got "2026-12-01"');
    await refused(await signed(slotPath(event, slot(1).toISOString())), `${event} has no schedule, so it has no slots`);
    expect((await ledger(daily)).length).toBe(before);
    expect(await ledger(event)).toEqual([]);
  });

  it("accepts an instant with an offset that is a tick (the same slot written another way)", async () => {
    const res = await signed(slotPath(daily, "2026-12-20T09:00:00+01:00"));
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await ledger(daily)).find((r) => r.slot_at?.getTime() === Date.parse("2026-12-20T08:00:00Z"))).toMatchObject({ trigger: "backfill", status: "succeeded" });
  });

  it("binds slot and trigger to the signature: a signed URL with another slot, or slot parameters added to a signed delivery, are refused (401)", async () => {
    const before = (await ledger(daily)).length;
    const other = await signed(slotPath(daily, slot(3).toISOString()), slotPath(daily, slot(4).toISOString()));
    expect(other.status).toBe(401);
    const added = await signed(`/api/jobs/${daily}`, slotPath(daily, slot(4).toISOString()));
    expect(added.status).toBe(401);
    expect(((await added.json()) as { error: string }).error).toMatch(/^invalid signature/);
    expect((await ledger(daily)).length).toBe(before);
  });

  it("ignores a query parameter added on the way to a signed slot run (a proxy's): only slot and trigger are signed", async () => {
    const res = await signed(slotPath(daily, slot(5).toISOString()), `${slotPath(daily, slot(5).toISOString())}&_vercel=1`);
    expect(res.status, await res.clone().text()).toBe(200);
  });

  it("refuses slot parameters from a Bearer caller, who runs the current slot only", async () => {
    const res = await fetch(`${app.url}${slotPath(daily, slot(6).toISOString())}`, { headers: { authorization: `Bearer ${CRON_SECRET}` } });
    await refused(res, "slot and trigger are accepted only on QStash-signed deliveries: run past slots with pnpm job:backfill or the console's Backfill");
    expect((await ledger(daily)).some((r) => r.slot_at?.getTime() === slot(6).getTime())).toBe(false);
  });

  it("leaves plain deliveries as they were: a signed message without a query runs as trigger qstash", async () => {
    const res = await signed(`/api/jobs/${daily}`);
    expect(res.status, await res.clone().text()).toBe(200);
    const last = (await ledger(daily)).at(-1);
    expect(last).toMatchObject({ trigger: "qstash", status: "succeeded", slot_at: null });
  });
});
