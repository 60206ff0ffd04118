import { randomUUID } from "node:crypto";
import { Client } from "@upstash/qstash";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQStashServer, type QStashServer } from "../../dev/qstash/server";
import { defineJob } from "../../lib/jobs/define";
import type { RunDeps } from "../../lib/jobs/run";
import { renderToStaticMarkup } from "react-dom/server";
import { BackfillSection } from "../../app/ops/jobs/[job]/backfill";
import { performAction } from "../../lib/ops/actions";
import { jobRuns, jobsTable } from "../../lib/ops/jobs";
import { readView, viewRows } from "../../lib/ops/jobs-view";
import { attentionItems, effectsNeedingPerson, openDeadLetters } from "../../lib/ops/overview";
import { createRequestOf, desiredSchedules } from "../../lib/qstash/desired";
import { sql, testDeps, uniqueName } from "../support/app";

/** The console's data (jobs table, runs with filters) and its Run now, on the real ledger and a local QStash. */
const steady = uniqueName("steady");
const flaky = uniqueName("flaky");
const event = uniqueName("event");
let fail = false;
const jobs = [
  defineJob({ name: steady, description: "t", handler: async () => ({ done: 1 }) }),
  defineJob({ name: flaky, description: "t", handler: async () => {
    if (fail) throw new Error("down");
    return {};
  } }),
  defineJob({ name: event, description: "needs an id", payload: z.object({ id: z.string() }), handler: async () => ({}) }),
];
let qstash: QStashServer;
let client: Client;
let deps: RunDeps;

beforeAll(async () => {
  qstash = await startQStashServer({ port: 0 });
  client = new Client({ baseUrl: qstash.url, token: qstash.token, retry: false, enableTelemetry: false });
  deps = testDeps(jobs, [
    { job: steady, cron: "*/5 * * * *" },
    { job: flaky, cron: "CRON_TZ=Europe/Berlin 0 9 * * *" },
  ], { QSTASH_URL: qstash.url, QSTASH_TOKEN: qstash.token });
});
afterAll(() => qstash?.close());

const form = (fields: Record<string, string>) => {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  return f;
};

describe("ops console data", () => {
  it("Run now runs the job in the app with trigger manual and says where its run is", async () => {
    const r = await performAction("run", form({ job: steady }), deps, client);
    const [run] = await sql()<{ id: string; trigger: string; status: string }[]>`select id, trigger, status from job_runs where job = ${steady}`;
    expect(run).toMatchObject({ trigger: "manual", status: "succeeded" });
    // The run's own page, with the outcome as a notice.
    expect(r).toMatchObject({ ok: true, location: `/ops/runs/${run!.id}?notice=run%20succeeded` });
  });

  it("Run now refuses a payload its job's schema refuses and an unknown job, running nothing", async () => {
    expect(await performAction("run", form({ job: event }), deps, client)).toMatchObject({ ok: false, notice: "payload refused: this job needs a payload; id: Invalid input: expected string, received undefined" });
    expect(await performAction("run", form({ job: event, payload: `{"id": 7}` }), deps, client)).toMatchObject({ ok: false, notice: expect.stringMatching(/^payload refused: .*id: /) });
    expect(await performAction("run", form({ job: event, payload: `{"id": ` }), deps, client)).toMatchObject({ ok: false, notice: expect.stringMatching(/^payload refused: /) });
    expect(await performAction("run", form({ job: "no-such-job" }), deps, client)).toMatchObject({ ok: false, location: expect.stringMatching(/^\/ops\?error=/) });
    // (A valid payload runs: the browser part tests/e2e/ops/search.ts; this job must stay never run for the table's test.)
    expect(await sql()`select 1 from job_runs where job = ${event}`).toHaveLength(0);
  });

  it("the jobs table has success rates, p95, the last run, effects needing a person, and drift against QStash", async () => {
    fail = false;
    await performAction("run", form({ job: flaky }), deps, client);
    fail = true;
    await performAction("run", form({ job: flaky }), deps, client);
    await sql()`insert into effects (key, job, status) values (${`k:${randomUUID()}`}, ${flaky}, 'unknown'), (${`k:${randomUUID()}`}, ${flaky}, 'abandoned'), (${`k:${randomUUID()}`}, ${flaky}, 'failed')`;
    const [d] = desiredSchedules(deps.registry, deps.env).filter((x) => x.job === steady);
    await client.schedules.create({ ...createRequestOf(d!), retries: 7 });

    const table = await jobsTable(deps, client, new Date());
    const row = (job: string) => table.rows.find((r) => r.job === job)!;
    expect(table.qstashError).toBeUndefined();
    expect(row(flaky)).toMatchObject({
      last: { status: "failed", trigger: "manual" },
      windows: { "24h": { runs: 2, succeeded: 1, success_rate: 0.5 }, "7d": { runs: 2, succeeded: 1 } },
      needs_person: { unknown: 1, abandoned: 1 },
      schedule: { words: "At 09:00", zone: "Europe/Berlin", via: "qstash" },
      drift: ["missing in QStash"],
      paused: undefined,
      overlap: "skip",
    });
    expect(row(flaky).days).toEqual([expect.objectContaining({ runs: 2, failed: 1 })]);
    expect(row(steady)).toMatchObject({ drift: ["retries"], paused: false, windows: { "24h": { success_rate: 1 } } });
    expect(typeof row(steady).windows["24h"]!.p95_ms).toBe("number");
    expect(row(event)).toMatchObject({ schedule: null, drift: undefined, last: null });
  });

  it("filters runs by status, trigger and time", async () => {
    const all = await jobRuns(deps, flaky, {});
    expect(all.map((r) => r.status)).toEqual(["failed", "succeeded"]);
    expect((await jobRuns(deps, flaky, { status: "failed" })).map((r) => r.status)).toEqual(["failed"]);
    expect(await jobRuns(deps, flaky, { trigger: "qstash" })).toEqual([]);
    const firstStart = new Date(all[1]!.started_at as string);
    expect(await jobRuns(deps, flaky, { to: firstStart })).toEqual([]);
    expect((await jobRuns(deps, flaky, { from: firstStart, to: new Date(Date.now() + 1000) })).length).toBe(2);
  });

  it("an action on QStash that fails says why instead of throwing", async () => {
    const down = testDeps(jobs, [{ job: steady, cron: "*/5 * * * *" }], { QSTASH_URL: "http://127.0.0.1:1" });
    const r = await performAction("pause", form({ job: steady }), down, new Client({ baseUrl: "http://127.0.0.1:1", token: "t", retry: false }));
    expect(r.ok).toBe(false);
    expect(decodeURIComponent(r.location)).toMatch(/pause failed: QStash at http:\/\/127\.0\.0\.1:1 is not reachable/);
  });

  it("Backfill publishes one slot run per slot of the range that has not run, and says how many already ran", async () => {
    // The flaky job's schedule is 09:00 in Berlin: 08:00Z in winter. One slot of three already succeeded.
    await sql()`insert into job_runs (job, trigger, status, slot_at, started_at, finished_at) values (${flaky}, 'qstash', 'succeeded', '2026-11-02T08:00:00Z', now(), now())`;
    const before = new Set(Object.keys(qstash.state.messages));
    const r = await performAction("backfill", form({ job: flaky, from: "2026-11-01", to: "2026-11-04" }), deps, client);
    expect(r).toMatchObject({ ok: true, location: `/ops/jobs/${flaky}?trigger=backfill&notice=${encodeURIComponent("backfill of 3 slot(s): published 2 run(s), one at a time; 1 already ran")}` });
    const added = Object.values(qstash.state.messages).filter((m) => !before.has(m.messageId));
    expect(added.map((m) => m.url).sort()).toEqual(["2026-11-01", "2026-11-03"].map((d) => `${deps.env.appUrl}/api/jobs/${flaky}?slot=${d}T08%3A00%3A00.000Z&trigger=backfill`));
    for (const m of added) expect(m.flow).toMatchObject({ key: `backfill-${flaky}`, parallelism: 1 });
    // The same backfill again within QStash's window adds no message (the same deduplication ids).
    await performAction("backfill", form({ job: flaky, from: "2026-11-01", to: "2026-11-04" }), deps, client);
    expect(Object.values(qstash.state.messages).filter((m) => !before.has(m.messageId))).toHaveLength(2);
  });

  it("Backfill refuses a range it cannot run, on the job's page with the range kept, publishing nothing", async () => {
    const before = Object.keys(qstash.state.messages).length;
    const refused = (fields: Record<string, string>) => performAction("backfill", form(fields), deps, client);
    expect(await refused({ job: flaky, from: "2026-11-04", to: "2026-11-01" })).toMatchObject({
      ok: false,
      location: expect.stringMatching(new RegExp(`^/ops/jobs/${flaky}\\?backfill_from=2026-11-04&backfill_to=2026-11-01#backfill&error=backfill%20refused%3A%20from%20`)),
    });
    expect((await refused({ job: flaky, from: "2026-11-01", to: "2099-01-01" })).notice).toMatch(/^backfill refused: to \(2098-12-31T23:00:00\.000Z\) is in the future/);
    expect((await refused({ job: flaky, from: "", to: "2026-11-01" })).notice).toMatch(/^backfill refused: from "" is not a date or an ISO instant/);
    expect((await refused({ job: steady, from: "2020-01-01", to: "2026-01-01" })).notice).toMatch(/^backfill refused: more than 1000 slots of "\*\/5 \* \* \* \*" \(UTC\).*shorter range \(each slot is one QStash message\)\.$/);
    expect((await refused({ job: event, from: "2026-11-01", to: "2026-11-02" })).notice).toBe(`backfill refused: ${event} has no schedule, so it has no slots to backfill: publish its runs with their payloads instead.`);
    expect(await refused({ job: "no-such-job", from: "2026-11-01", to: "2026-11-02" })).toMatchObject({ ok: false, location: expect.stringMatching(/^\/ops\?error=backfill%20refused/) });
    expect(Object.keys(qstash.state.messages)).toHaveLength(before);
  });

  it("the job page's Backfill shows the plan of a range and a button that publishes the slots still to run", async () => {
    const html = renderToStaticMarkup(await BackfillSection({ deps, job: flaky, zone: "Europe/Berlin", csrf: "tok", from: "2026-11-01T00:00", to: "2026-11-04T00:00" }));
    const text = html.replace(/<[^>]+>/g, "");
    expect(text).toContain("3 slot(s) from 2026-10-31 23:00:00Z to 2026-11-03 23:00:00Z: 1 already ran, 2 to run, one at a time.");
    expect(text).toContain("2026-11-02 08:00:00Z: already ran");
    // Each date is a <time> with the instant, and how long ago on hover.
    expect(html).toContain('<time dateTime="2026-11-02T08:00:00.000Z" title="');
    // (Runs after the Backfill test above, which recorded the 2026-11-02 slot as succeeded.)
    expect(html).toContain('<form class="inline" action="/ops/actions/backfill" method="post"><input type="hidden" name="csrf" value="tok"/>');
    expect(html).toContain('<input type="hidden" name="from" value="2026-11-01T00:00"/><input type="hidden" name="to" value="2026-11-04T00:00"/><button type="submit">Publish 2 run(s)</button>');
    const refused = renderToStaticMarkup(await BackfillSection({ deps, job: flaky, zone: "Europe/Berlin", csrf: "tok", from: "2026-11-04", to: "2026-11-01" }));
    expect(refused).toContain('<p class="flash bad" role="alert">from (2026-11-03T23:00:00.000Z) must be before to');
    expect(refused).not.toContain("/ops/actions/backfill");
  });
  it("the overview names what needs a person, through the ledger's own functions, and the table filters and sorts by it", async () => {
    fail = true; // two failures in a row after the Backfill test's success
    await performAction("run", form({ job: flaky }), deps, client);
    await performAction("run", form({ job: flaky }), deps, client);
    const before = await openDeadLetters(deps.db, new Date());
    const msg = `msg_${randomUUID()}`;
    await deps.db.rpc("dead_letter_record", { p_callback: { sourceMessageId: msg, url: `${deps.env.appUrl}/api/cron/${flaky}`, status: 500, retried: 3, maxRetries: 3 }, p_job: flaky });
    await deps.db.rpc("schedule_slots_decide", { p_items: [{ job: flaky, slot: "2026-12-01T08:00:00Z", decision: "missed" }], p_now: new Date() });

    const table = await jobsTable(deps, client, new Date());
    const failing = table.attention.failing.find((f) => f.job === flaky);
    expect(failing).toMatchObject({ streak: 2, attempt: 0, error: { message: "down" } });
    expect(table.attention.failing.some((f) => f.job === steady)).toBe(false);
    expect(table.attention.dead_letters.find((d) => d.job === flaky)).toMatchObject({ n: 1 });
    expect(await openDeadLetters(deps.db, new Date())).toBe(before + 1);
    expect(table.attention.missed.find((m) => m.job === flaky)).toMatchObject({ n: 1 });
    const items = attentionItems(table.attention, table.rows);
    for (const id of ["failing", "dead-letters", "unknown", "abandoned", "missed", "drifted"]) expect(items.find((i) => i.id === id)?.jobs).toContain(flaky);
    expect(items.find((i) => i.id === "failing")?.href).toBe("/ops?filter=failing");

    const effects = await effectsNeedingPerson(deps.db, { status: "unknown", job: flaky });
    expect(effects.map((e) => [e.job, e.status])).toEqual([[flaky, "unknown"]]);

    // Filter and sort by what the ledger says (the rows are this registry's three jobs).
    expect(viewRows(table.rows, readView({ filter: "failing" })).map((r) => r.job)).toEqual([flaky]);
    expect(viewRows(table.rows, readView({ status: "never" })).map((r) => r.job)).toEqual([event]);
    expect(viewRows(table.rows, readView({ state: "missed" })).map((r) => r.job)).toEqual([flaky]);
    expect(viewRows(table.rows, readView({ sort: "success", dir: "desc" })).map((r) => r.job)).toEqual([steady, flaky, event]);

    // A success after the dead letter settles it; the job is no longer failing.
    fail = false;
    await performAction("run", form({ job: flaky }), deps, client);
    const after = await jobsTable(deps, client, new Date());
    expect(after.attention.failing.some((f) => f.job === flaky)).toBe(false);
    expect(after.attention.dead_letters.some((d) => d.job === flaky)).toBe(false);
  });
});
