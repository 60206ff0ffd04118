import { Client } from "@upstash/qstash";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startQStashServer, type QStashServer } from "../../dev/qstash/server";
import { createKeepAlive } from "../../jobs/system/keep-alive";
import { failureRoute } from "../../lib/http/failure-route";
import { jobRoute } from "../../lib/http/job-route";
import { defineJob } from "../../lib/jobs/define";
import { runJob, type RunDeps } from "../../lib/jobs/run";
import { reconciledNotice, seenDeadLetters } from "../../lib/ops/dead-letters";
import { slackWebhook } from "../mocks/slack";
import { server } from "../mocks/server";
import { KEYS, sql, testDeps, uniqueName } from "../support/app";
import { serveRoutes } from "../support/http-app";
import { VENDOR_ENV, vendors } from "../support/vendors";

/**
 * Dead letters end to end: the local QStash server delivers to the real job and failure routes over
 * HTTP, dead-letters what keeps failing and calls back (retrying the callback as QStash does);
 * keep-alive reconciles with QStash's DLQ through the official SDK. Only the vendors are msw.
 */
let qstash: QStashServer;
let client: Client;
const closing: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  qstash = await startQStashServer({ port: 0, currentSigningKey: KEYS.current, nextSigningKey: KEYS.next });
  client = new Client({ baseUrl: qstash.url, token: qstash.token, retry: false, enableTelemetry: false });
});
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});
afterAll(async () => qstash?.close());

/**
 * An app of its own (its own URL, so its own slice of the shared DLQ) with a job that always
 * fails, and keep-alive. `callbacks.down` makes the failure route meet a database that is gone.
 */
async function setup() {
  const name = uniqueName("doomed");
  const job = defineJob({ name, description: "always fails", handler: async () => Promise.reject(new Error("the upstream API answered 503")) });
  const keepAlive = createKeepAlive({ schedules: () => [] });
  const callbacks = { down: false };
  // The routes ask for their deps per request: by then both exist.
  const jobs = jobRoute("jobs", async () => deps);
  const failed = failureRoute(async () => (callbacks.down ? cut : deps));
  const answers: number[] = [];
  const app = await serveRoutes({
    jobs: {
      GET: jobs.GET,
      // As Next routes it: /api/jobs/failed is its own route, beside /api/jobs/[job].
      POST: async (req, ctx) => {
        if ((await ctx.params).job !== "failed") return jobs.POST(req, ctx);
        const res = await failed.POST(req);
        answers.push(res.status);
        return res;
      },
    },
  });
  const env = { ...VENDOR_ENV, APP_URL: app.url, QSTASH_URL: qstash.url, QSTASH_TOKEN: qstash.token, ALERT_COOLDOWN_MINUTES: "30" };
  const deps: RunDeps = testDeps([job, keepAlive], [], env);
  // Nothing listens on port 1: every call of the failure route fails as it did with the database cut.
  const cut: RunDeps = testDeps([job, keepAlive], [], { ...env, DATABASE_URL: "postgres://postgres@127.0.0.1:1/postgres" });
  closing.push(() => app.close(), () => deps.db.close(), () => cut.db.close());

  /** Publishes `n` messages that fail every delivery: one retry each, at once, then the DLQ and the callback. */
  const publish = async (n: number) =>
    Promise.all(Array.from({ length: n }, (_, i) => client.publishJSON({ url: `${app.url}/api/jobs/${name}`, body: { i }, retries: 1, retryDelay: "0", failureCallback: `${app.url}/api/jobs/failed` })));
  /** Until QStash has nothing left to deliver for this app. */
  const settled = () =>
    expect.poll(() => Object.values(qstash.state.messages).filter((m) => m.url.startsWith(app.url)).length, { timeout: 30_000, interval: 100 }).toBe(0);
  const dlq = () => qstash.state.dlq.filter((d) => d.message.url.startsWith(app.url)).map((d) => d.message.url.replace(app.url, ""));
  const keepAliveRun = () => runJob({ job: "keep-alive", payload: {}, trigger: "vercel" }, deps);
  const deadLetters = async () => (await sql()<{ n: number }[]>`select count(*)::int as n from dead_letters where job = ${name}`)[0]!.n;
  return { name, deps, callbacks, answers, publish, settled, dlq, keepAliveRun, deadLetters };
}

describe("a failed alert is retried by QStash", () => {
  it("Slack down when the failure callback comes: the route answers 500, QStash redelivers the callback, and the alert reaches Slack once it is back", async () => {
    const a = await setup();
    const calls = vendors();
    // Slack fails the first post (an unknown outcome), then is back.
    const flaky = slackWebhook({ respond: (_, n) => (n === 1 ? new Response("service_unavailable", { status: 503 }) : undefined) });
    server.use(...flaky.handlers);
    await a.publish(1);
    await a.settled();
    expect(a.answers).toEqual([500, 200]);
    expect(flaky.calls).toHaveLength(2);
    expect(flaky.calls[1]!.body.text).toContain(`${a.name} is failing`);
    expect(calls.resend).toHaveLength(1);
    // The callback got through in the end: only the job's message is in the DLQ.
    expect(a.dlq()).toEqual([`/api/jobs/${a.name}`]);
    expect(await a.deadLetters()).toBe(1);
  });
});

describe("keep-alive reconciles the app's dead letters with QStash's DLQ", () => {
  it("dead letters whose callbacks never reached the app are recorded and alerted once by keep-alive; a second keep-alive adds and alerts nothing", async () => {
    const a = await setup();
    const calls = vendors();
    a.callbacks.down = true;
    await a.publish(3);
    await a.settled();
    // Each callback failed twice and QStash gave up: the messages and their callbacks are in the DLQ, the app knows nothing.
    expect(a.answers).toEqual([500, 500, 500, 500, 500, 500]);
    expect(a.dlq().sort()).toEqual([...Array(3).fill(`/api/jobs/${a.name}`), ...Array(3).fill("/api/jobs/failed")].sort());
    expect(await a.deadLetters()).toBe(0);
    a.callbacks.down = false;

    const first = await a.keepAliveRun();
    expect(first).toMatchObject({ status: "succeeded", stats: { deadLetters: { inDlq: 3, recorded: 3, alertsRetried: 0, alertsPending: 0, errors: [] } } });
    expect(await a.deadLetters()).toBe(3);
    // One incident: the first dead letter alerts, the other two are counted in its cooldown.
    expect(calls.slack).toHaveLength(1);
    expect(calls.slack[0]!.body.text).toContain(`${a.name} is failing`);
    expect(calls.slack[0]!.body.text).toContain("HTTP 500");
    expect(calls.resend).toHaveLength(1);
    expect(await sql()`select count(*)::int as n from alert_events where job = ${a.name}`).toEqual([{ n: 3 }]);

    const second = await a.keepAliveRun();
    expect(second).toMatchObject({ status: "succeeded", stats: { deadLetters: { inDlq: 3, recorded: 0, alertsRetried: 0, alertsPending: 0 } } });
    expect(await a.deadLetters()).toBe(3);
    expect(calls.slack).toHaveLength(1);
    expect(calls.resend).toHaveLength(1);
  });

  it("an alert that did not reach a channel before QStash gave up on its callback is sent by the next keep-alive, and only there", async () => {
    const a = await setup();
    const calls = vendors({ slack: { respond: () => new Response("internal_error", { status: 500 }) } });
    await a.publish(1);
    await a.settled();
    // Recorded on the first attempt, answered 500 for Slack both times: QStash gave up on the callback.
    expect(a.answers).toEqual([500, 500]);
    expect(await a.deadLetters()).toBe(1);
    expect(calls.slack).toHaveLength(2);
    expect(calls.resend).toHaveLength(1);

    const slack = slackWebhook();
    server.use(...slack.handlers);
    expect(await a.keepAliveRun()).toMatchObject({ status: "succeeded", stats: { deadLetters: { inDlq: 1, recorded: 0, alertsRetried: 1, alertsPending: 0 } } });
    expect(slack.calls).toHaveLength(1);
    expect(slack.calls[0]!.body.text).toContain(`${a.name} is failing`);
    expect(calls.resend).toHaveLength(1);
    expect(await a.keepAliveRun()).toMatchObject({ stats: { deadLetters: { alertsRetried: 0 } } });
    expect(slack.calls).toHaveLength(1);
  });

  it("the console's dead letters page reconciles what it shows: recorded and alerted once, then nothing", async () => {
    const a = await setup();
    const calls = vendors();
    a.callbacks.down = true;
    await a.publish(2);
    await a.settled();
    a.callbacks.down = false;
    const first = await seenDeadLetters(a.deps, client, a.name);
    expect(first.listed.map((m) => m.url)).toEqual([`${a.deps.env.appUrl}/api/jobs/${a.name}`, `${a.deps.env.appUrl}/api/jobs/${a.name}`]);
    expect(reconciledNotice(first.reconciled)).toBe("2 dead letter(s) whose failure callback never reached the app recorded and alerted now");
    expect(await a.deadLetters()).toBe(2);
    expect(calls.slack).toHaveLength(1);
    const again = await seenDeadLetters(a.deps, client, a.name);
    expect(again.listed).toHaveLength(2);
    expect(reconciledNotice(again.reconciled)).toBeUndefined();
    expect(calls.slack).toHaveLength(1);
    expect(calls.resend).toHaveLength(1);
  });
});
