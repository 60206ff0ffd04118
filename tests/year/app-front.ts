import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { failureRoute } from "../../lib/http/failure-route";
import { jobRoute } from "../../lib/http/job-route";
import type { RunDeps } from "../../lib/jobs/run";

/** What the app does with one request: answer it, answer 503 at once, or drop the connection. */
export type Gate = "pass" | "unavailable" | "drop" | "lose-answer";

export interface Hit {
  path: string;
  method: string;
  messageId: string | undefined;
  scheduleId: string | undefined;
  retried: number;
  gate: Gate;
  status: number | undefined;
  /** The test's clock when the request arrived. */
  at: number;
}

/**
 * The app as Vercel would serve it, over real HTTP: /api/cron/<job>, /api/jobs/<job> and the
 * failure callback /api/jobs/failed, each the real route handler. In front, a gate asked per
 * request: `unavailable` answers 503 without running anything (a deployment down), `drop` resets
 * the connection (nothing answers), `lose-answer` runs the request and resets the connection
 * instead of answering (the run happened; QStash never learns it, and delivers the message again).
 */
export async function serveApp(getDeps: () => Promise<RunDeps>, gate: (h: Omit<Hit, "gate" | "status">) => Gate, now: () => number): Promise<{ url: string; hits: Hit[]; close(): Promise<void> }> {
  const cron = jobRoute("cron", getDeps);
  const jobs = jobRoute("jobs", getDeps);
  const failed = failureRoute(getDeps);
  const hits: Hit[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    const path = (req.url ?? "/").split("?")[0]!;
    const h = req.headers;
    const hit: Hit = {
      path,
      method: req.method ?? "",
      messageId: h["upstash-message-id"] as string | undefined,
      scheduleId: h["upstash-schedule-id"] as string | undefined,
      retried: Number(h["upstash-retried"] ?? 0),
      gate: "pass",
      status: undefined,
      at: now(),
    };
    hit.gate = gate(hit);
    hits.push(hit);
    if (hit.gate === "drop") return void res.destroy();
    if (hit.gate === "unavailable") return void res.writeHead((hit.status = 503), { "content-type": "text/plain" }).end("deployment unavailable");
    const m = /^\/api\/(cron|jobs)\/([^/]+)$/.exec(path);
    if (!m || (req.method !== "GET" && req.method !== "POST")) return void res.writeHead((hit.status = 404)).end("no such route");
    const headers = new Headers();
    for (const [k, v] of Object.entries(h)) if (typeof v === "string") headers.set(k, v);
    const request = new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers, body: req.method === "POST" ? new Uint8Array(body) : undefined });
    const ctx = { params: Promise.resolve({ job: decodeURIComponent(m[2]!) }) };
    const answer = m[1] === "cron" ? await cron[req.method as "GET" | "POST"](request, ctx) : m[2] === "failed" ? await failed.POST(request) : await jobs[req.method as "GET" | "POST"](request, ctx);
    hit.status = answer.status;
    const bytes = Buffer.from(await answer.arrayBuffer());
    if (hit.gate === "lose-answer") return void res.destroy();
    res.writeHead(answer.status, Object.fromEntries(answer.headers)).end(bytes);
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => void handle(req, res, Buffer.concat(chunks)).catch((err: unknown) => res.writeHead(500).end(String(err))));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
