import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { server } from "../../../tests/mocks/server";
import { vapiCalls } from "../../../tests/mocks/vapi";
import { CRON_SECRET, sql, uniqueName } from "../../../tests/support/app";
import { insertOverdueForms, startFormsApp, uniquePhone, type FormsApp } from "./support";

/**
 * check-forms through the real routes: it publishes call-form by batch to the local QStash
 * server, which delivers each to the app, which calls the Vapi mock. Batch requests are counted
 * where they leave the process; calls at the Vapi mock, per number.
 */
let app: FormsApp;
let vapi: ReturnType<typeof vapiCalls>;
let batches: number[];
beforeEach(async () => {
  app = await startFormsApp();
  vapi = vapiCalls();
  server.use(...vapi.handlers);
  batches = [];
  // The fetch of the moment is msw's: vendor calls still reach the mocks.
  const passThrough = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
    if (String(input).endsWith("/v2/batch")) batches.push((JSON.parse(String(init?.body)) as unknown[]).length);
    return passThrough(input, init);
  });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await app.close();
  await sql()`delete from forms`;
});

/** A manual run, as `pnpm job:trigger` or a person sends it: Bearer GET to the cron route. */
const runCheckForms = async () => {
  const res = await fetch(`${app.url}/api/cron/check-forms`, { headers: { authorization: `Bearer ${CRON_SECRET}` } });
  return { status: res.status, body: (await res.json()) as { status: string; stats?: Record<string, number> } };
};
/** The same job as a one-time QStash message: never skipped for an overlapping run. */
const publishCheckForms = () => app.rig.client.publishJSON({ url: `${app.url}/api/jobs/check-forms`, body: {} });
const calledForms = async () => (await sql()<{ n: number }[]>`select count(*)::int as n from forms where status = 'called'`)[0]!.n;

describe("check-forms", () => {
  it("publishes one call per overdue form, 1,000 in 10 batch requests, and each form is called once", { timeout: 60_000 }, async () => {
    const forms = await insertOverdueForms(1000, new Date(app.rig.clock.now() - 3_600_000), uniqueName("overdue"));
    const res = await runCheckForms();
    expect(res).toMatchObject({ status: 200, body: { status: "succeeded", stats: { overdue: 1000, published: 1000, deduplicated: 0, requests: 10 } } });
    expect(batches).toEqual(Array(10).fill(100));
    await app.rig.clock.settle();
    await expect.poll(calledForms, { timeout: 45_000, interval: 250 }).toBe(1000);
    const counts = vapi.numbers();
    expect(forms.filter((f) => counts.get(f.phone) !== 1)).toEqual([]);
  });

  it("run twice at once, still calls each form once", { timeout: 60_000 }, async () => {
    const forms = await insertOverdueForms(1000, new Date(app.rig.clock.now() - 3_600_000), uniqueName("twice"));
    await Promise.all([publishCheckForms(), publishCheckForms()]);
    await app.rig.clock.settle();
    await expect.poll(calledForms, { timeout: 45_000, interval: 250 }).toBe(1000);
    const runs = await sql()<{ stats: { published: number; deduplicated: number } }[]>`select stats from job_runs where job = 'check-forms' and trigger = 'qstash' and status = 'succeeded'`;
    expect(runs).toHaveLength(2);
    // Both runs saw every form; QStash kept the first message per form.
    expect(runs.reduce((a, r) => a + r.stats.published, 0)).toBe(1000);
    expect(runs.reduce((a, r) => a + r.stats.deduplicated, 0)).toBe(1000);
    const counts = vapi.numbers();
    expect(forms.filter((f) => counts.get(f.phone) !== 1)).toEqual([]);
    // An hour later nothing is overdue any more.
    await app.rig.clock.advance(3_600_000);
    expect((await runCheckForms()).body.stats).toMatchObject({ overdue: 0, published: 0 });
  });

  it("leaves forms whose deadline call is still pending, submitted and called ones, and takes one whose call is long overdue", async () => {
    const phone = uniquePhone();
    const now = app.rig.clock.now();
    const created = await app.api("POST", "/api/forms", { patient: { name: "Kept", phone }, title: "t", deadline: new Date(now + 60_000).toISOString() });
    const submitted = await insertOverdueForms(1, new Date(now - 60_000), uniqueName("submitted"));
    await sql()`update forms set status = 'submitted' where id = ${submitted[0]!.id}`;
    // The deadline call came (and called): not check-forms' business.
    await app.rig.clock.advance(2 * 60_000);
    expect((await runCheckForms()).body.stats).toMatchObject({ overdue: 0 });
    // A form whose recorded message never came (lost): taken once the grace has passed.
    const lost = await insertOverdueForms(1, new Date(now - 60_000), uniqueName("lost"));
    await sql()`insert into job_messages (message_id, owner, job, not_before) values (${`msg_lost_${lost[0]!.id}`}, ${`form:${lost[0]!.id}:deadline`}, 'call-form', ${new Date(now - 60_000)})`;
    expect((await runCheckForms()).body.stats).toMatchObject({ overdue: 0 });
    await app.rig.clock.advance(15 * 60_000);
    expect((await runCheckForms()).body.stats).toMatchObject({ overdue: 1, published: 1 });
    await app.rig.clock.settle();
    expect(vapi.numbers().get(lost[0]!.phone)).toBe(1);
    expect(vapi.numbers().get(submitted[0]!.phone)).toBeUndefined();
    expect(vapi.numbers().get(phone)).toBe(1);
    expect(created.status).toBe(201);
  });
});
