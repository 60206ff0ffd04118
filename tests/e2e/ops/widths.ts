import { expect, it } from "vitest";
import { JOB, ops, url } from "./stack";

/**
 * Every page of the console, as the earlier parts left the stack (failed and manual runs, effects,
 * dead letters), at a laptop's 1,400 px and a phone's 390 px: none scrolls sideways. Tables may
 * scroll inside their own box; the page itself may not.
 */
export function widthTests() {
  it("no page of the console scrolls sideways at 1,400 px or at 390 px", async () => {
    const { page } = ops;
    const [failed] = await ops.db.sql<{ id: string }[]>`select id from job_runs where job = 'keep-alive' and status = 'failed' order by started_at desc limit 1`;
    expect(failed).toBeDefined();
    const pages = [
      "/ops",
      `/ops/jobs/${JOB}`,
      "/ops/jobs/keep-alive",
      `/ops/runs/${failed!.id}`,
      "/ops/dead-letters",
      "/ops/effects?status=abandoned",
      "/ops/search?q=keep-alive",
    ];
    const wide: string[] = [];
    for (const width of [1400, 390]) {
      await page.setViewportSize({ width, height: 900 });
      for (const p of pages) {
        const res = await page.goto(url(p));
        expect(res?.status(), `${p} at ${width} px`).toBe(200);
        const w = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, view: window.innerWidth }));
        if (w.doc > w.view) wide.push(`${p} at ${width} px: ${w.doc} px wide`);
      }
    }
    await page.setViewportSize({ width: 1600, height: 900 });
    expect(wide).toEqual([]);
  });
}
