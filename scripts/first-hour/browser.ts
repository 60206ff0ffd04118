import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Page } from "playwright-core";
import { watchConsole } from "../../tests/e2e/browser-console";
import { check, pnpm, ROOT } from "./context";

/**
 * A person opening the console link of the banner at once: signed in (the time it took is printed),
 * a job's page opened, and nothing in the browser's console (hydration errors, invalid HTML,
 * failed loads) or a page that keeps reloading itself. Then a second tab sits on the sign-in page
 * while the first opens a job's page, as one left open does: it loads once, and `next dev` rebuilds
 * nothing since the banner (no "Compiled in" line, printed per HMR update): nobody edits a file.
 * A dev server rebuilding on files the stack itself writes (.data, next-env.d.ts) would reload both.
 */
export async function signInWithin(bannerAt: number, output: () => string) {
  const from = output().length;
  const link = /console +(\S+\/ops\/login) +\(password: (\S+)\)/.exec(output());
  check(link, "the banner has no console link with its password");
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  try {
    const page = await browser.newPage();
    const idle = await browser.newPage();
    const consoleOf = watchConsole(page);
    const loads = countLoads(page);
    const idleLoads = countLoads(idle);
    // A guard against a hang, not a speed check (the time is printed): on CI's two loaded cores a
    // cold dev server's first pages once took more than 10 s.
    const left = () => Math.max(1, bannerAt + 60_000 - Date.now());
    await page.goto(link[1]!, { timeout: left() });
    await page.fill("#name", "first hour", { timeout: left() });
    await page.fill("#password", link[2]!, { timeout: left() });
    await Promise.all([page.waitForURL((u) => u.pathname === "/ops", { timeout: left() }), page.click("button[type=submit]", { timeout: left() })]);
    await page.waitForSelector("#jobs", { timeout: left() });
    const signedInAfter = Date.now() - bannerAt;
    // Opened after the sign-in, so the time printed is the first tab's alone.
    await idle.goto(link[1]!);
    await page.goto(link[1]!.replace(/\/ops\/login$/, "/ops/jobs/heartbeat"), { waitUntil: "networkidle" });
    // Time for a reload loop to show, and for hydration to report.
    await page.waitForTimeout(3_000);
    const rebuilds = output().slice(from).split("\n").filter((l) => /Compiled in/.test(l));
    const seen = `(the tab that signed in: ${loads.count()} loads for 3 navigations; the idle sign-in tab: ${idleLoads.count()} loads for 1; "Compiled in" lines since the banner: ${rebuilds.length})`;
    check(loads.count() === 3 && idleLoads.count() === 1, `the console reloads itself ${seen}:\n${idleLoads.urls().concat(loads.urls()).slice(-10).join("\n")}`);
    check(rebuilds.length === 0, `next dev rebuilt with no file edited ${seen}:\n${rebuilds.slice(-5).join("\n")}`);
    const problems = consoleOf.problems();
    check(problems.length === 0, `the browser's console reported:\n${problems.join("\n")}`);
    return signedInAfter;
  } finally {
    await browser.close();
  }
}

/** Each document `page` loaded (a full reload is one), with the time and URL of each. */
export function countLoads(page: Page): { count(): number; urls(): string[] } {
  const seen: string[] = [];
  page.on("load", () => seen.push(`${new Date().toISOString()} ${page.url()}`));
  return { count: () => seen.length, urls: () => [...seen] };
}

/**
 * The README's picture (docs/images/ops-jobs.png is copied from test-results/screenshots/ops-jobs.png):
 * the console of a stack as a new user has it after this hour, schedules synced, seeded runs.
 */
export async function picture(banner: string) {
  const kept = await pnpm(["-s", "job:run", "keep-alive"]);
  check(kept.code === 0 && /keep-alive succeeded/.test(kept.out), `job:run keep-alive: ${kept.code}\n${kept.out}`);
  const link = /console +(\S+\/ops\/login) +\(password: (\S+)\)/.exec(banner);
  check(link, "the banner has no console link with its password");
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  try {
    // The server's HTML as it renders, without the dev client: what the picture shows is the page, and
    // the dev client's reloads after a restart (see signInWithin) are not this step's subject.
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 }, javaScriptEnabled: false });
    await page.goto(link[1]!);
    await page.fill("#name", "first hour");
    await page.fill("#password", link[2]!);
    await Promise.all([page.waitForURL((u) => u.pathname === "/ops"), page.click("button[type=submit]")]);
    const table = await page.textContent("#jobs");
    // A failed last run reads "failed <date>"; the 7-day column's "0 failed" is health.
    check(table && !/drift|missing in QStash|\bfailed \d{4}-/.test(table), `the console is not healthy:\n${table}`);
    mkdirSync(path.join(ROOT, "test-results/screenshots"), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, "test-results/screenshots/ops-jobs.png") });
  } finally {
    await browser.close();
  }
}
