import { expect, it } from "vitest";
import { publishJob } from "../../../lib/qstash/publish";
import { JOB, ops, registry, shot, url } from "./stack";

/** A job that takes a payload (`{ date?: yyyy-mm-dd }`). */
const PAYLOAD_JOB = "daily-sales-summary";
const DAY = "2026-12-01";
const EFFECT = `sales-summary:${DAY}`;
/** The run page is its own part of the console; where it is built, a search that finds a run opens it. */

const runsOf = (job: string, trigger: string) => ops.db.sql<{ id: string; message_id: string | null; status: string }[]>`select id, message_id, status from job_runs where job = ${job} and trigger = ${trigger} order by started_at`;

/** A message published through the local QStash and delivered for real: the run it made. */
async function deliveredRun(): Promise<{ id: string; messageId: string }> {
  const { messageId } = await publishJob({ env: ops.env, registry, client: ops.client }, JOB, {}, { retries: 0 });
  await expect.poll(async () => (await runsOf(JOB, "qstash")).find((r) => r.message_id === messageId)?.status, { timeout: 20_000 }).toMatch(/succeeded|failed/);
  return { id: (await runsOf(JOB, "qstash")).find((r) => r.message_id === messageId)!.id, messageId };
}

/** Where /ops/search?q= sends the browser, without following it. */
async function searchLeadsTo(q: string): Promise<string | null> {
  const res = await ops.page.request.get(url(`/ops/search?q=${encodeURIComponent(q)}`), { maxRedirects: 0 });
  return res.status() >= 300 && res.status() < 400 ? res.headers()["location"]! : null;
}

/** The header's search box, from any page; lands on the run's page when it exists. */
async function searchFromHeader(q: string, runId: string) {
  const { page } = ops;
  const box = page.locator("#header-search input[name=q]");
  await box.fill(q);
  await Promise.all([page.waitForURL((u) => u.pathname === `/ops/runs/${runId}`), box.press("Enter")]);
  expect(await page.textContent("main")).toContain(runId);
}

/** Search, live refresh, run now with a payload, the schedule's state. */
export function searchTests() {
  it("runs a job now with a payload: a bad one shows the schema's error beside the field and keeps the text, a good one runs", async () => {
    const { page } = ops;
    await page.goto(url(`/ops/jobs/${PAYLOAD_JOB}`));
    await page.click("text=Run now…");
    const bad = `{"date": "the first of December"}`;
    await page.fill("#payload", bad);
    await Promise.all([page.waitForURL(/payload_error=/), page.click("text=Yes, run now")]);
    expect(await page.textContent("#payload-error")).toMatch(/^date: .*date/i);
    expect(await page.inputValue("#payload")).toBe(bad);
    expect(await runsOf(PAYLOAD_JOB, "manual")).toHaveLength(0);
    await shot("20-run-now-refused");

    await page.fill("#payload", `{"date": "${DAY}"}`);
    await Promise.all([page.waitForURL(/\/ops\/runs\//), page.click("text=Yes, run now")]);
    const [run, ...more] = await runsOf(PAYLOAD_JOB, "manual");
    expect(more).toHaveLength(0);
    expect(new URL(page.url()).pathname).toBe(`/ops/runs/${run!.id}`);
    // The payload reached the handler: the run is about the day it named (it fails here for want of an email provider).
    expect(await page.textContent("[role=alert], [role=status]")).toMatch(/run (succeeded|failed)/);
    // The run list leads to the run's own page.
    await page.goto(url(`/ops/jobs/${PAYLOAD_JOB}`));
    expect(await page.getAttribute(`#runs tr[data-run="${run!.id}"] a`, "href")).toBe(`/ops/runs/${run!.id}`);
  });

  it("searches from the header: a message id and an effect key each open their run", async () => {
    const { page } = ops;
    const delivered = await deliveredRun();
    const [manual] = await runsOf(PAYLOAD_JOB, "manual");
    // The effect the payload's day names, as the job claims it once its email provider is configured (not on this stack).
    await ops.db.sql`insert into effects (key, job, subject, status, run_id, attempts) values (${EFFECT}, ${PAYLOAD_JOB}, ${DAY}, 'failed', ${manual!.id}, 1)`;
    expect(await searchLeadsTo(delivered.messageId)).toBe(`/ops/runs/${delivered.id}`);
    expect(await searchLeadsTo(delivered.id)).toBe(`/ops/runs/${delivered.id}`);
    expect(await searchLeadsTo(EFFECT)).toBe(`/ops/runs/${manual!.id}`);
    expect(await searchLeadsTo(DAY)).toBe(`/ops/runs/${manual!.id}`); // the effect's subject
    await page.goto(url("/ops/dead-letters"));
    await searchFromHeader(delivered.messageId, delivered.id);
    await page.goto(url(`/ops/jobs/${JOB}`));
    await searchFromHeader(EFFECT, manual!.id);
  });

  it("lists several matches by kind, and says what it tried when nothing matches", async () => {
    const { page } = ops;
    const [a] = await runsOf(JOB, "qstash");
    const [b] = await runsOf(JOB, "manual");
    await ops.db.sql`insert into effects (key, job, subject, status, run_id, attempts) values ('transfer:pay_e2e_1', ${JOB}, 'pay_e2e_1', 'succeeded', ${a!.id}, 1), ('transfer:pay_e2e_2', ${JOB}, 'pay_e2e_2', 'abandoned', ${b!.id}, 8)`;
    await page.goto(url("/ops"));
    await Promise.all([page.waitForURL(/\/ops\/search\?q=/), page.locator("#header-search input[name=q]").fill("transfer:pay_e2e").then(() => page.press("#header-search input[name=q]", "Enter"))]);
    expect(await page.locator("#hits-effects tr[data-effect]").count()).toBe(2);
    expect(await page.getAttribute(`#hits-effects tr[data-effect="transfer:pay_e2e_1"] a`, "href")).toBe(`/ops/runs/${a!.id}`);
    expect(await page.textContent("#hits-effects")).toContain("effect key prefix");
    await shot("21-search-several");

    await page.goto(url("/ops/search?q=nothing-by-this-name"));
    const none = await page.textContent("#no-match");
    expect(none).toContain("Nothing matches “nothing-by-this-name”");
    expect(none).toContain("transfer:<payment id>");
    // The phone: the results and the header's box fit the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(url("/ops/search?q=transfer:pay_e2e"));
    const widths = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, view: window.innerWidth }));
    expect(widths.doc).toBeLessThanOrEqual(widths.view);
    await page.setViewportSize({ width: 1600, height: 900 });
  });

  it("shows the schedule's state with only the action that applies: Pause when active, Resume when paused (and no next run)", async () => {
    const { page } = ops;
    const state = page.locator("#schedule-state");
    await page.goto(url(`/ops/jobs/${JOB}`));
    expect(await state.getAttribute("data-state")).toBe("active");
    expect(await state.textContent()).toMatch(/Active, next run \d{4}-/);
    expect(await page.locator("text=Resume schedule").count()).toBe(0);
    await Promise.all([page.waitForURL(/notice=/), state.locator("text=Pause schedule").click()]);
    expect(await state.getAttribute("data-state")).toBe("paused");
    expect(await state.textContent()).toContain("Paused");
    expect(await state.textContent()).not.toContain("next run");
    expect(await page.locator("text=Pause schedule").count()).toBe(0);
    await shot("22-schedule-paused");
    await Promise.all([page.waitForURL(/resumed/), state.locator("text=Resume schedule").click()]);
    expect(await state.getAttribute("data-state")).toBe("active");
    expect(await page.locator("text=Resume schedule").count()).toBe(0);
  });

  it("refreshes a page when a run finishes, keeping its filter and a half-typed search", async () => {
    const { page } = ops;
    await page.goto(url(`/ops/jobs/${JOB}?trigger=qstash`));
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    const before = await page.locator("#runs tbody tr").count();
    await page.locator("#header-search input[name=q]").fill("half-typ");
    await page.fill("input[name=from]", "2026-01-01T00:00");
    const run = await deliveredRun();
    await expect.poll(() => page.locator(`#runs tr[data-run="${run.id}"]`).count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator("#runs tbody tr").count()).toBe(before + 1);
    expect(await page.inputValue("#header-search input[name=q]")).toBe("half-typ");
    expect(await page.inputValue("input[name=from]")).toBe("2026-01-01T00:00");
    expect(page.url()).toBe(url(`/ops/jobs/${JOB}?trigger=qstash`));
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  });

  it("answers the live version to a session only", async () => {
    const anonymous = await fetch(url("/ops/live"));
    expect(anonymous.status).toBe(401);
    const signed = await ops.page.request.get(url("/ops/live"));
    expect(signed.status()).toBe(200);
    expect(await signed.json()).toMatchObject({ version: expect.stringMatching(/^\d+:/) });
  });
}
