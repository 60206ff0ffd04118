import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { publishJob } from "../../../lib/qstash/publish";
import { OPERATOR, ops, registry, url } from "./stack";

const JOB = "call-form";

/**
 * A stand-in for Vapi's REST API on the port the app was given (VAPI_BASE_URL): down (503) until
 * the test fixes it, then it places calls and lists none made before. It counts what it was asked.
 */
function vapi(port: number) {
  const seen: string[] = [];
  let up = false;
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url?.split("?")[0]}`);
    req.resume();
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      if (!up) return res.writeHead(503).end(JSON.stringify({ message: "Vapi is down for maintenance" }));
      if (req.method === "GET") return res.writeHead(200).end("[]");
      res.writeHead(201).end(JSON.stringify({ id: "call_e2e_1", status: "queued" }));
    });
  });
  return { seen, fix: () => (up = true), listen: () => new Promise<void>((ok) => server.listen(port, "127.0.0.1", ok)), close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

const noOverflow = () => ops.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

/** A run, its effect and the on-call path: a failing job, its run, its effect, retry, success. */
export function runTests() {
  let stand: ReturnType<typeof vapi> | undefined;
  afterAll(() => stand?.close());
  const formId = randomUUID();
  let failedRun = "";

  it("records a delivery that fails at the vendor: its payload, error with cause, effect and dead letter", async () => {
    const { db, client, env } = ops;
    stand = vapi(ops.vapiPort);
    await stand.listen();
    const [patient] = await db.sql<{ id: string }[]>`insert into patients (name, phone) values ('Pat E2e', '+15550001234') returning id`;
    await db.sql`insert into forms (id, patient_id, title, deadline) values (${formId}, ${patient!.id}, 'Intake form', now() - interval '1 minute')`;
    const { messageId } = await publishJob({ env, registry, client }, JOB, { formId }, { retries: 0 });
    await expect.poll(async () => (await client.dlq.listMessages()).messages.some((m) => m.messageId === messageId), { timeout: 30_000 }).toBe(true);
    const [run] = await db.sql<{ id: string; status: string; payload: unknown }[]>`select id, status, payload from job_runs where job = ${JOB} and message_id = ${messageId}`;
    expect(run).toMatchObject({ status: "failed", payload: { formId } });
    failedRun = run!.id;
    expect(stand.seen).toEqual(["POST /call"]);
  }, 60_000);

  it("a job is failing: from /ops by clicks to its failed run, which shows payload, attempt from 1, message id, the effect and a timeline", async () => {
    const { page } = ops;
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto(url("/ops"));
    // The overview says jobs are failing; its link lists them; the job; its failed run.
    await Promise.all([page.waitForURL(/filter=failing/), page.locator(`#overview li[data-item="failing"] a`).first().click()]);
    await Promise.all([page.waitForURL(`**/ops/jobs/${JOB}`), page.click(`#jobs tr[data-job="${JOB}"] a[href="/ops/jobs/${JOB}"]`)]);
    await Promise.all([page.waitForURL(`**/ops/runs/${failedRun}`), page.click(`#runs tr[data-run="${failedRun}"] a`)]);
    const [run] = await ops.db.sql<{ message_id: string }[]>`select message_id from job_runs where id = ${failedRun}`;
    const fact = (k: string) => page.textContent(`#run-facts dd[data-field="${k}"]`);
    expect(await fact("attempt")).toBe("1 of 1"); // Upstash-Retried 0, no retries: the first and last
    expect(await fact("QStash message")).toBe(run!.message_id);
    expect(await page.textContent("#run-payload")).toContain(formId);
    expect(await page.textContent("#run-error")).toContain("Vapi");
    expect(await page.textContent("#dead-letter")).toContain("Replay the dead letter");
    const effect = page.locator(`[data-effect="call:${formId}"]`);
    expect(await effect.getAttribute("data-status")).toBe("unknown");
    expect(await effect.textContent()).toContain("attempt 1 of 8");
    expect(await effect.textContent()).toContain("may make it twice");
    const timeline = await page.textContent("#timeline");
    for (const step of ["opened", "effect.failed", "effects.page", "closed failed"]) expect(timeline).toContain(step);
    expect(await noOverflow()).toBe(true);
    // docs/images/ops-run.png is this picture, copied by hand when the page changes.
    await page.screenshot({ path: path.resolve("test-results/screenshots/ops-run.png") });
  }, 60_000);

  it("refuses a retry without a reason, then retries with one once the vendor is fixed: the job runs again, looks the call up, places it, and the run succeeds", async () => {
    const { page, db } = ops;
    stand!.fix();
    const effect = page.locator(`[data-effect="call:${formId}"]`);
    // The browser holds the form back without a reason: nothing is posted, nothing changes.
    await effect.locator("button", { hasText: "Retry" }).click();
    expect(page.url()).toContain(`/ops/runs/${failedRun}`);
    expect(stand!.seen).toEqual(["POST /call"]);
    await effect.locator("input[name=reason]").fill("Vapi maintenance over; nothing was placed (checked their call log)");
    await Promise.all([page.waitForURL((u) => !u.pathname.endsWith(failedRun)), effect.locator("button", { hasText: "Retry" }).click()]);
    expect(await page.textContent("[role=status]")).toContain("retried: run succeeded");
    // The lost answer was looked up first (nothing there), then the call placed once.
    expect(stand!.seen).toEqual(["POST /call", "GET /call", "POST /call"]);
    const after = page.locator(`[data-effect="call:${formId}"]`);
    expect(await after.getAttribute("data-status")).toBe("succeeded");
    expect(await after.textContent()).toContain("call_e2e_1");
    expect(await page.textContent("#run-facts")).toContain("succeeded");
    expect(await page.textContent("#actions")).toContain(`${OPERATOR} effect-retry call:${formId}`);
    const [form] = await db.sql<{ status: string; call_id: string }[]>`select status, call_id from forms where id = ${formId}`;
    expect(form).toEqual({ status: "called", call_id: "call_e2e_1" });
    const [action] = await db.sql<{ operator: string; reason: string; ok: boolean; run_id: string }[]>`select operator, reason, ok, run_id from ops_actions where action = 'effect-retry'`;
    expect(action).toMatchObject({ operator: OPERATOR, ok: true, run_id: failedRun });
    expect(action!.reason).toContain("Vapi maintenance over");
  }, 60_000);

  it("records every console action with its operator, and the run page fits a phone", async () => {
    const { page, db } = ops;
    const actions = await db.sql<{ action: string; operator: string }[]>`select action, operator from ops_actions order by id`;
    expect(actions.length).toBeGreaterThan(1);
    expect(new Set(actions.map((a) => a.operator))).toEqual(new Set([OPERATOR]));
    await page.goto(url(`/ops/runs/${failedRun}`));
    expect(await page.textContent("#actions")).toContain("Vapi maintenance over");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    expect(await noOverflow()).toBe(true);
    await page.setViewportSize({ width: 1600, height: 900 });
  }, 60_000);
}
