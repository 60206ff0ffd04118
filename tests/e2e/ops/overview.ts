import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import { publishJob } from "../../../lib/qstash/publish";
import { desiredSchedules } from "../../../lib/qstash/desired";
import { watchConsole } from "../browser-console";
import { ops, registry, runs, shotFirstScreen, url } from "./stack";

const noOverflow = () => ops.page.evaluate(() => ({ doc: document.documentElement.scrollWidth, view: window.innerWidth }));
const jobsShown = () => ops.page.$$eval("#jobs tbody tr[data-job]", (trs) => trs.map((t) => t.getAttribute("data-job")!));

/**
 * The overview: a failing job (keep-alive fails here: Redis is unreachable), its dead letter and
 * incident, an abandoned effect, each named with a link; the jobs table sorted and filtered by
 * clicks; the page fits 1,400 and 390 px; a paused schedule has no next run; dates in the viewer's zone.
 */
export function overviewTests() {
  const key = `e2e:abandoned:${randomUUID()}`;
  let failedRun = "";

  it("names each thing that needs a person with a link to its list, and counts the dead letters in the navigation", async () => {
    const { page, client, env } = ops;
    const before = (await runs("qstash", "keep-alive")).length;
    const { messageId } = await publishJob({ env, registry, client }, "keep-alive", {}, { retries: 0 });
    await expect.poll(async () => (await ops.db.sql`select 1 from dead_letters where source_message_id = ${messageId}`).length, { timeout: 20_000 }).toBe(1);
    const all = await runs("qstash", "keep-alive");
    expect(all.length).toBe(before + 1);
    failedRun = all.at(-1)!.id;
    expect(all.at(-1)!.status).toBe("failed");
    // An effect out of attempts, through the ledger's own claim and settle.
    await ops.db.sql`select effects_claim('keep-alive', ${failedRun}::uuid, now(), 60000, ${ops.db.sql.json([{ key }])}, 1)`;
    await ops.db.sql`select * from effects_settle(${failedRun}::uuid, now(), ${ops.db.sql.json([{ key, outcome: "failed", error: "the provider refused it" }])})`;
    const [incidents] = await ops.db.sql<{ n: number }[]>`select count(*)::int n from alert_incidents where recovered_at is null and job = 'keep-alive'`;
    expect(incidents!.n).toBe(1);

    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto(url("/ops"));
    const item = (id: string) => page.locator(`#overview li[data-item="${id}"]`);
    expect(await page.textContent("#overview h2")).toMatch(/things? needs? a person/);
    for (const id of ["failing", "incidents", "dead-letters", "abandoned"]) expect(await item(id).textContent()).toContain("keep-alive");
    expect(await item("failing").locator("a").first().getAttribute("href")).toBe("/ops?filter=failing");
    expect(await page.getAttribute('#overview [data-failing="keep-alive"] a[href^="/ops/runs/"]', "href")).toBe(`/ops/runs/${failedRun}`);
    expect(await page.textContent('#overview [data-failing="keep-alive"]')).toContain("attempt 1"); // Upstash-Retried 0
    const dead = Number(await page.textContent("#nav-dead-letters .count"));
    expect(dead).toBeGreaterThanOrEqual(1);
    await shotFirstScreen("ops-overview");

    // Each link leads to its list.
    await Promise.all([page.waitForURL(/filter=failing/), item("failing").locator("a").first().click()]);
    expect(await jobsShown()).toContain("keep-alive");
    expect(await jobsShown()).not.toContain("cleanup-expired-reservations");
    await page.goto(url("/ops"));
    await Promise.all([page.waitForURL(/\/ops\/dead-letters$/), item("dead-letters").locator("a").first().click()]);
    expect(await page.locator("#dead-letters tbody tr").count()).toBeGreaterThanOrEqual(1);
    await page.goto(url("/ops"));
    await Promise.all([page.waitForURL(/\/ops\/effects\?status=abandoned/), item("abandoned").locator("a").first().click()]);
    const row = page.locator(`#effects tr[data-effect="${key}"]`);
    expect(await row.textContent()).toContain("the provider refused it");
    expect(await row.locator("a[href^='/ops/runs/']").getAttribute("href")).toBe(`/ops/runs/${failedRun}`);
  });

  it("sorts and filters the jobs table by clicks, kept in the URL", async () => {
    const { page } = ops;
    await page.goto(url("/ops"));
    const names = await jobsShown();
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    await Promise.all([page.waitForURL(/dir=desc/), page.click("#jobs th a[data-sort=job]")]);
    expect(await jobsShown()).toEqual([...names].sort((a, b) => b.localeCompare(a)));
    await Promise.all([page.waitForURL(/sort=product/), page.click("#jobs th a[data-sort=product]")]);
    const products = await page.$$eval("#jobs tbody td[data-label=product]", (tds) => tds.map((t) => t.textContent ?? ""));
    expect(products).toEqual([...products].sort((a, b) => a.localeCompare(b)));
    // Filter by status with the form: the sort stays.
    await page.selectOption("#filters select[name=status]", "failing");
    await Promise.all([page.waitForURL(/status=failing/), page.click("#filters button[type=submit]")]);
    expect(page.url()).toContain("sort=product");
    expect(await jobsShown()).toContain("keep-alive");
    expect(await page.locator("#jobs tbody tr[data-job] .badge.failing").count()).toBe(await page.locator("#jobs tbody tr[data-job]").count());
    await page.selectOption("#filters select[name=status]", "");
    await page.selectOption("#filters select[name=product]", "commerce");
    await Promise.all([page.waitForURL(/product=commerce/), page.click("#filters button[type=submit]")]);
    const commerce = await page.$$eval("#jobs tbody td[data-label=product]", (tds) => tds.map((t) => t.textContent));
    expect(commerce.length).toBeGreaterThan(0);
    expect(new Set(commerce)).toEqual(new Set(["commerce"]));
  });

  it("fits 1,400 px and a 390 px phone without scrolling sideways", async () => {
    const { page } = ops;
    for (const [width, height] of [[1400, 900], [390, 844]] as const) {
      await page.setViewportSize({ width, height });
      await page.goto(url("/ops"));
      const w = await noOverflow();
      expect(w.doc, `at ${width} px`).toBeLessThanOrEqual(w.view);
    }
    await shotFirstScreen("ops-phone");
    await page.setViewportSize({ width: 1600, height: 900 });
  });

  it("shows a paused schedule as paused, with no next run", async () => {
    const { page, client, env } = ops;
    const job = "cleanup-expired-reservations";
    const id = desiredSchedules(registry, env).find((d) => d.job === job)!.scheduleId;
    await client.schedules.pause({ schedule: id });
    try {
      await page.goto(url("/ops"));
      const next = page.locator(`#jobs tr[data-job="${job}"] td[data-next]`);
      expect((await next.textContent())?.trim()).toBe("paused");
      expect(await next.locator("time").count()).toBe(0);
      await page.goto(url("/ops?state=paused"));
      expect(await jobsShown()).toEqual([job]);
    } finally {
      await client.schedules.resume({ schedule: id });
    }
    await page.goto(url("/ops"));
    expect(await page.locator(`#jobs tr[data-job="${job}"] td[data-next] time`).count()).toBe(1);
  });

  it("writes dates as ISO UTC, the relative time on hover and the viewer's zone beside it", async () => {
    const context = await ops.browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: "Asia/Kolkata" });
    try {
      await context.addCookies(await ops.context.cookies());
      const page = await context.newPage();
      const seen = watchConsole(page);
      await page.goto(url("/ops"));
      const cell = page.locator('#jobs tr[data-job="keep-alive"] td[data-label="last run"] .when');
      const time = cell.locator("time");
      expect(await time.textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
      expect(await time.getAttribute("title")).toMatch(/ago$|^now$/);
      expect(new Date((await time.getAttribute("datetime"))!).toISOString()).toBe(await time.getAttribute("datetime"));
      await expect.poll(() => cell.locator(".tz").textContent()).toMatch(/\+05:30 Asia\/(Kolkata|Calcutta)$/);
      expect(seen.problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });
}
