import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { jobTriggerCommand } from "../../lib/cli/commands/job-trigger";
import { createCliContext } from "../../lib/cli/context";
import { UsageError } from "../../lib/cli/errors";
import { memoryIo } from "../../lib/cli/io";
import { createDeps } from "../../lib/deps";
import { NonRetryableError } from "../../lib/errors";
import { jobRoute } from "../../lib/http/job-route";
import { defineJob } from "../../lib/jobs/define";
import { createRegistry } from "../../lib/jobs/registry";
import type { RunDeps } from "../../lib/jobs/run";
import { CRON_SECRET, ledger, testEnv, uniqueName } from "../support/app";

const n = { sched: uniqueName("trg-sched"), event: uniqueName("trg-event"), fatal: uniqueName("trg-fatal") };
const registry = createRegistry(
  [
    defineJob({ name: n.sched, description: "t", overlap: "allow", handler: async ({ run }) => ({ sent: 3, trigger: run.trigger }) }),
    defineJob({ name: n.event, description: "t", overlap: "allow", payload: z.object({ orderId: z.string().min(3) }), handler: async ({ payload }) => ({ orderId: payload.orderId }) }),
    defineJob({ name: n.fatal, description: "t", handler: async () => Promise.reject(new NonRetryableError("no such order")) }),
  ],
  [{ job: n.sched, cron: "*/5 * * * *" }],
);

/** The real route handlers, served over HTTP as Next.js would serve them. */
function serve(getDeps: () => Promise<RunDeps>): Server {
  const routes = { cron: jobRoute("cron", getDeps), jobs: jobRoute("jobs", getDeps) };
  const seen: string[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const m = /^\/api\/(cron|jobs)\/([^/?]+)/.exec(req.url ?? "");
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? "-"}`);
    if (!m) return void res.writeHead(404).end();
    const request = new Request(`http://127.0.0.1${req.url}`, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: req.method === "GET" ? undefined : Buffer.concat(chunks),
    });
    const route = routes[m[1] as "cron" | "jobs"];
    const answer = await route[req.method === "GET" ? "GET" : "POST"](request, { params: Promise.resolve({ job: m[2]! }) });
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  (server as Server & { seen: string[] }).seen = seen;
  return server;
}

let server: Server;
let appUrl: string;
let deps: RunDeps;
beforeAll(async () => {
  // The app and the CLI share the secret; the app's signature URL base is the server's own URL.
  server = serve(async () => deps);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  deps = createDeps(testEnv({ APP_URL: appUrl }), registry);
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await deps.db.close();
});

const cli = (env: Record<string, string | undefined> = {}) => {
  const io = memoryIo();
  return { io, ctx: createCliContext({ env: testEnv({ APP_URL: appUrl, ...env }), registry, io, deps }) };
};
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}
const seen = () => (server as Server & { seen: string[] }).seen;

describe("pnpm job:trigger against the real route handler over HTTP", () => {
  it("GETs /api/cron/<job> for a scheduled job with the Bearer secret and prints the answer", async () => {
    const { ctx, io } = cli();
    expect(await jobTriggerCommand(ctx, n.sched)).toBe(0);
    const [row] = await ledger(n.sched);
    expect(row).toMatchObject({ trigger: "manual", status: "succeeded" });
    expect(io.stdout()).toBe(`GET ${appUrl}/api/cron/${n.sched} -> 200 OK\n${JSON.stringify({ runId: row!.id, status: "succeeded", stats: { sent: 3, trigger: "manual" } }, null, 2)}\n`);
    expect(seen()).toContain(`GET /api/cron/${n.sched} Bearer ${CRON_SECRET}`);
  });

  it("POSTs the payload to /api/jobs/<job> for a job without a schedule", async () => {
    const { ctx, io } = cli();
    expect(await jobTriggerCommand(ctx, n.event, { payload: '{"orderId":"ord_123"}', json: true })).toBe(0);
    expect(JSON.parse(io.stdout())).toMatchObject({ method: "POST", url: `${appUrl}/api/jobs/${n.event}`, status: 200, ok: true, body: { status: "succeeded", stats: { orderId: "ord_123" } } });
  });

  it("exits 1 on a non-2xx answer and explains it: bad payload (489), failure, wrong secret (401)", async () => {
    const bad = cli();
    expect(await jobTriggerCommand(bad.ctx, n.event, { payload: '{"orderId":"x"}' })).toBe(1);
    expect(bad.io.stdout()).toContain(`POST ${appUrl}/api/jobs/${n.event} -> 489`);
    expect(bad.io.stdout()).toContain("orderId");
    expect(bad.io.stderr()).toContain("error: the app answered 489: permanent failure");

    const fatal = cli();
    expect(await jobTriggerCommand(fatal.ctx, n.fatal, { payload: "{}" })).toBe(1);
    expect(fatal.io.stdout()).toContain('"error": "no such order"');

    const wrong = cli({ CRON_SECRET: "not-the-deployed-secret-000" });
    const before = (await ledger(n.sched)).length;
    expect(await jobTriggerCommand(wrong.ctx, n.sched)).toBe(1);
    expect(wrong.io.stdout()).toContain("-> 401");
    expect(wrong.io.stderr()).toContain("CRON_SECRET here must equal the deployment's");
    expect((await ledger(n.sched)).length).toBe(before);
  });

  it("refuses to send the secret over plain http to a public host, and says when the app is unreachable", async () => {
    const pub = cli({ APP_URL: "http://jobs.example.com" });
    expect(await jobTriggerCommand(pub.ctx, n.sched)).toBe(1);
    expect(pub.io.stderr()).toBe("error: refusing to send CRON_SECRET over plain http to jobs.example.com: set APP_URL to the https URL of the deployment.\n");

    const closed = await closedPort();
    const down = cli({ APP_URL: `http://127.0.0.1:${closed}` });
    expect(await jobTriggerCommand(down.ctx, n.sched)).toBe(1);
    expect(down.io.stderr()).toBe(`error: could not reach http://127.0.0.1:${closed}/api/cron/${n.sched}: ECONNREFUSED. Is the app running at APP_URL (http://127.0.0.1:${closed})?\n`);

    await expect(jobTriggerCommand(cli().ctx, n.event, { payload: "{orderId" })).rejects.toThrow(UsageError);
  });
});
