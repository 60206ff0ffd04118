import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { Client } from "@upstash/qstash";
import { realClock, startQStashServer, type QStashServer } from "../dev/qstash/server";

/**
 * The local QStash server (dev/qstash) on the wall clock, driven by the official SDK:
 * - delivery lag: scheduled time to the destination seeing the request, over 1,000 messages: one
 *   at a time (no delay, one published every 5 ms), 100 due per second (notBefore) for 10 seconds,
 *   and all due in the same second (a fan-out);
 * - publish throughput: 1,000 single publishes against 10 batches of 100, each awaited in turn.
 * Both with state in memory and with the state file that `pnpm qstash:dev` keeps by default.
 */

export interface LagRow {
  config: string;
  shape: string;
  messages: number;
  p50: number;
  p99: number;
  max: number;
}
export interface PublishRow {
  config: string;
  singlePerSecond: number;
  batchPerSecond: number;
}
export interface QStashBenchResult {
  messages: number;
  lag: LagRow[];
  publish: PublishRow[];
}

const CONFIGS = [
  { name: "in memory", stateFile: false },
  { name: "state file (pnpm qstash:dev default)", stateFile: true },
] as const;

// The destination runs on its own thread (as the app would in its own process), so its work does
// not queue behind the server's on one event loop. It stamps each request with the wall clock.
const DESTINATION = `
const { createServer } = require("node:http");
const { parentPort } = require("node:worker_threads");
let want = Infinity, seen = [];
const server = createServer((req, res) => {
  seen.push([String(req.headers["upstash-message-id"]), Date.now()]);
  req.resume();
  req.on("end", () => res.end());
  if (seen.length === want) { parentPort.postMessage({ arrivals: seen }); seen = []; want = Infinity; }
});
server.listen(0, "127.0.0.1", () => parentPort.postMessage({ port: server.address().port }));
parentPort.on("message", (m) => { if (m.expect) want = m.expect; if (m.close) server.close(() => process.exit(0)); });
`;

interface Destination {
  url: string;
  arrivals(n: number, timeoutMs: number): Promise<[string, number][]>;
  close(): Promise<void>;
}

async function startDestination(): Promise<Destination> {
  const worker = new Worker(DESTINATION, { eval: true });
  const port = await new Promise<number>((resolve) => worker.once("message", (m: { port: number }) => resolve(m.port)));
  return {
    url: `http://127.0.0.1:${port}/deliver`,
    arrivals(n, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only some of ${n} deliveries arrived within ${timeoutMs} ms`)), timeoutMs);
        worker.once("message", (m: { arrivals: [string, number][] }) => {
          clearTimeout(timer);
          resolve(m.arrivals);
        });
        worker.postMessage({ expect: n });
      });
    },
    async close() {
      worker.postMessage({ close: true });
      await new Promise((resolve) => worker.once("exit", resolve));
    },
  };
}

async function withServer<T>(stateFile: boolean, fn: (server: QStashServer, client: Client) => Promise<T>): Promise<T> {
  const dir = stateFile ? mkdtempSync(path.join(os.tmpdir(), "cronlayer-bench-qstash-")) : undefined;
  const server = await startQStashServer({ port: 0, clock: realClock(), ...(dir && { stateFile: path.join(dir, "qstash.json") }) });
  const client = new Client({ baseUrl: server.url, token: server.token, retry: false, enableTelemetry: false });
  try {
    return await fn(server, client);
  } finally {
    await server.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Nearest-rank percentile of sorted values. */
const pct = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;

async function lag(dest: Destination, stateFile: boolean, n: number, perSecond: number): Promise<Omit<LagRow, "config" | "shape">> {
  return withServer(stateFile, async (_server, client) => {
    // notBefore is whole seconds on the wire; publish everything (in batches) well before the first.
    const first = Math.ceil((Date.now() + 2_000) / 1000);
    const due = Array.from({ length: n }, (_, i) => first + Math.floor(i / perSecond));
    const scheduled = new Map<string, number>();
    for (let i = 0; i < n; i += 100) {
      const items = due.slice(i, i + 100).map((s, j) => ({ url: dest.url, body: { i: i + j }, notBefore: s }));
      const res = await client.batchJSON(items);
      res.forEach((r, j) => scheduled.set((r as { messageId: string }).messageId, items[j]!.notBefore * 1000));
    }
    if (Date.now() >= first * 1000) throw new Error("publishing took longer than the 2 s margin before the first due time: the lag would be wrong");
    const arrivals = await dest.arrivals(n, (due.at(-1)! - first) * 1000 + 60_000);
    const ids = new Set(arrivals.map(([id]) => id));
    if (ids.size !== n || [...ids].some((id) => !scheduled.has(id))) throw new Error(`expected ${n} distinct deliveries of the published messages, got ${ids.size}`);
    const lags = arrivals.map(([id, at]) => at - scheduled.get(id)!).sort((a, b) => a - b);
    if (lags[0]! < 0) throw new Error(`a message arrived ${-lags[0]!} ms before its notBefore`);
    return { messages: n, p50: pct(lags, 0.5), p99: pct(lags, 0.99), max: lags.at(-1)! };
  });
}

/**
 * Messages due on arrival (no delay), published one every `everyMs`: the lag of a message that
 * queues behind no other. Its scheduled time is when the server accepted it (its CREATED event).
 */
async function isolatedLag(dest: Destination, stateFile: boolean, n: number, everyMs: number): Promise<Omit<LagRow, "config" | "shape">> {
  return withServer(stateFile, async (server, client) => {
    const scheduled = new Map<string, number>();
    const arrived = dest.arrivals(n, n * everyMs + 60_000);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const { messageId } = await client.publishJSON({ url: dest.url, body: { i } });
      const created = server.state.events.findLast((e) => e.messageId === messageId && e.state === "CREATED");
      if (!created) throw new Error(`no CREATED event for ${messageId}`);
      scheduled.set(messageId, created.time);
      const wait = t0 + (i + 1) * everyMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const lags = (await arrived).map(([id, at]) => at - scheduled.get(id)!).sort((a, b) => a - b);
    if (lags.length !== n || lags.some(Number.isNaN)) throw new Error(`expected ${n} deliveries of the published messages`);
    return { messages: n, p50: pct(lags, 0.5), p99: pct(lags, 0.99), max: lags.at(-1)! };
  });
}

/** Messages per second accepted, publishing far ahead (nothing is delivered while measuring). */
async function publishRate(url: string, stateFile: boolean, n: number, batch: boolean): Promise<number> {
  return withServer(stateFile, async (_server, client) => {
    const notBefore = Math.floor(Date.now() / 1000) + 3600;
    const started = performance.now();
    if (batch) {
      for (let i = 0; i < n; i += 100) await client.batchJSON(Array.from({ length: Math.min(100, n - i) }, (_, j) => ({ url, body: { i: i + j }, notBefore })));
    } else {
      for (let i = 0; i < n; i++) await client.publishJSON({ url, body: { i }, notBefore });
    }
    return n / ((performance.now() - started) / 1000);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function qstashBench(n = Number(process.env.BENCH_QSTASH_MESSAGES ?? 1000), rounds = 3): Promise<QStashBenchResult> {
  const dest = await startDestination();
  const result: QStashBenchResult = { messages: n, lag: [], publish: [] };
  try {
    // Unmeasured: the first configuration would otherwise pay for the JIT warming up.
    await isolatedLag(dest, false, 100, 2);
    await lag(dest, false, 200, 200);
    for (const c of CONFIGS) {
      result.lag.push({ config: c.name, shape: "due on arrival, one published every 5 ms", ...(await isolatedLag(dest, c.stateFile, n, 5)) });
      result.lag.push({ config: c.name, shape: `100 due per second for ${Math.ceil(n / 100)} s`, ...(await lag(dest, c.stateFile, n, 100)) });
      result.lag.push({ config: c.name, shape: `all ${n} due in the same second`, ...(await lag(dest, c.stateFile, n, n)) });
      // A warm-up of each, then rounds alternating single and batch; the median round is reported.
      await publishRate(dest.url, c.stateFile, 100, false);
      await publishRate(dest.url, c.stateFile, 100, true);
      const single: number[] = [];
      const batched: number[] = [];
      for (let r = 0; r < rounds; r++) {
        single.push(await publishRate(dest.url, c.stateFile, n, false));
        batched.push(await publishRate(dest.url, c.stateFile, n, true));
      }
      result.publish.push({ config: c.name, singlePerSecond: median(single), batchPerSecond: median(batched) });
    }
  } finally {
    await dest.close();
  }
  return result;
}

/** The Markdown `pnpm bench` prints. */
export function qstashReport(r: QStashBenchResult): string {
  const out = [`\n## Local QStash server (dev/qstash): delivery lag and publish throughput, ${r.messages.toLocaleString("en-US")} messages`];
  out.push("| state | due | messages | lag p50 (ms) | lag p99 (ms) | lag max (ms) |\n|---|---|---:|---:|---:|---:|");
  for (const x of r.lag) out.push(`| ${x.config} | ${x.shape} | ${x.messages} | ${x.p50} | ${x.p99} | ${x.max} |`);
  out.push("\n| state | single publishes (msg/s) | batches of 100 (msg/s) | batch / single |\n|---|---:|---:|---:|");
  for (const x of r.publish) out.push(`| ${x.config} | ${x.singlePerSecond.toFixed(0)} | ${x.batchPerSecond.toFixed(0)} | ${(x.batchPerSecond / x.singlePerSecond).toFixed(1)}x |`);
  return out.join("\n");
}
