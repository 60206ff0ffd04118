import v8 from "node:v8";
import vm from "node:vm";
import { Worker } from "node:worker_threads";
import { Client } from "@upstash/qstash";
import { z } from "zod";
import { realClock, startQStashServer } from "../dev/qstash/server";
import { defineJob } from "../lib/jobs/define";
import { createRegistry } from "../lib/jobs/registry";
import { fanOut } from "../lib/qstash/fan-out";
import { publishJob, type PublishDeps } from "../lib/qstash/publish";

/**
 * 10,000 one-time runs of a job published to the local QStash server (dev/qstash, wall clock, in
 * memory) and delivered to a receiver: through fanOut (batches of 100), against a baseline of
 * publishJob once per item, each awaited (a planner's loop), and a floor of the same batches
 * without deduplication ids. Each run checks that every item arrived exactly once. Requests are
 * counted where they leave the process (fetch).
 */
export interface FanOutRow {
  name: string;
  requests: number;
  publishSeconds: number;
  /** From the first publish until the last delivery arrived. */
  seconds: number;
  peakRssMb: number;
  /** Peak RSS over the RSS when the run started (after a full GC). */
  rssGrowthMb: number;
}
export interface FanOutBenchResult {
  items: number;
  rows: FanOutRow[];
}

const job = defineJob({ name: "bench-fan-out-item", description: "one item", payload: z.object({ i: z.number().int() }), handler: async () => {} });
const registry = createRegistry([job], []);

// The receiver runs on its own thread (as the app would in its own process). It keeps each
// delivery's message id and body, and reports once `expect` of them have arrived.
const RECEIVER = `
const { createServer } = require("node:http");
const { parentPort } = require("node:worker_threads");
let want = Infinity, seen = [];
const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    seen.push([String(req.headers["upstash-message-id"]), Buffer.concat(chunks).toString("utf8")]);
    res.end();
    if (seen.length === want) parentPort.postMessage({ arrived: true });
  });
});
server.listen(0, "127.0.0.1", () => parentPort.postMessage({ port: server.address().port }));
parentPort.on("message", (m) => {
  if (m.expect) { want = m.expect; if (seen.length >= want) parentPort.postMessage({ arrived: true }); }
  if (m.take) { parentPort.postMessage({ seen }); seen = []; want = Infinity; }
  if (m.close) server.close(() => process.exit(0));
});
`;

interface Receiver {
  url: string;
  arrived(n: number): Promise<void>;
  take(): Promise<[string, string][]>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const worker = new Worker(RECEIVER, { eval: true });
  const port = await new Promise<number>((resolve) => worker.once("message", (m: { port: number }) => resolve(m.port)));
  const reply = <T>(msg: object) =>
    new Promise<T>((resolve) => {
      worker.once("message", resolve);
      worker.postMessage(msg);
    });
  return {
    url: `http://127.0.0.1:${port}`,
    arrived: (n) => reply({ expect: n }),
    take: () => reply<{ seen: [string, string][] }>({ take: true }).then((m) => m.seen),
    async close() {
      worker.postMessage({ close: true });
      await new Promise((resolve) => worker.once("exit", resolve));
    },
  };
}

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;
const mb = (bytes: number) => bytes / 1024 / 1024;

type Publish = (deps: PublishDeps, items: { i: number }[]) => Promise<void>;

const viaFanOut: Publish = async (deps, items) => {
  await fanOut(deps, job.name, items, { key: (x) => `bench:${x.i}` });
};
const oneByOne: Publish = async (deps, items) => {
  for (const x of items) await publishJob(deps, job.name, x, { deduplicationId: `bench:${x.i}` });
};
/** The same batches straight from the SDK without deduplication ids: what the server costs without its dedup bookkeeping. */
const noDedup: Publish = async (deps, items) => {
  const url = `${deps.env.appUrl}/api/jobs/${job.name}`;
  for (let i = 0; i < items.length; i += 100) await deps.client!.batchJSON(items.slice(i, i + 100).map((body) => ({ url, body })));
};

/** One approach on a fresh server: publish n items, wait for every delivery, check each came once. */
async function measure(name: string, receiver: Receiver, n: number, publish: Publish): Promise<FanOutRow> {
  const server = await startQStashServer({ port: 0, clock: realClock() });
  const client = new Client({ baseUrl: server.url, token: server.token, retry: false, enableTelemetry: false });
  const deps: PublishDeps = {
    env: { appUrl: receiver.url, qstash: { url: server.url, token: server.token, currentSigningKey: server.currentSigningKey, nextSigningKey: server.nextSigningKey, maxDelayMs: 7 * 86_400_000 } },
    registry,
    client,
  };
  const realFetch = globalThis.fetch;
  let requests = 0;
  globalThis.fetch = (input, init) => {
    if (String(input).startsWith(server.url)) requests++;
    return realFetch(input, init);
  };
  gc();
  const rssStart = process.memoryUsage().rss;
  let peak = rssStart;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  try {
    const items = Array.from({ length: n }, (_, i) => ({ i }));
    const arrived = receiver.arrived(n);
    const t0 = performance.now();
    await publish(deps, items);
    const published = performance.now();
    await arrived;
    const done = performance.now();
    peak = Math.max(peak, process.memoryUsage().rss);
    // Every message answered: nothing left to deliver again, so the count below is final.
    while (Object.keys(server.state.messages).length > 0) await new Promise((r) => setTimeout(r, 10));
    const seen = await receiver.take();
    const ids = new Set(seen.map(([id]) => id));
    const bodies = new Set(seen.map(([, body]) => (JSON.parse(body) as { i: number }).i));
    if (seen.length !== n || ids.size !== n || bodies.size !== n) throw new Error(`${name}: expected ${n} deliveries of ${n} distinct items, got ${seen.length} (${ids.size} ids, ${bodies.size} items)`);
    return { name, requests, publishSeconds: (published - t0) / 1000, seconds: (done - t0) / 1000, peakRssMb: mb(peak), rssGrowthMb: mb(peak - rssStart) };
  } finally {
    clearInterval(sampler);
    globalThis.fetch = realFetch;
    await server.close();
  }
}

export async function fanOutBench(n = Number(process.env.BENCH_FAN_OUT_ITEMS ?? 10_000)): Promise<FanOutBenchResult> {
  const receiver = await startReceiver();
  const baseline = "publishJob per item, each awaited (baseline)";
  const batched = "fanOut, batches of 100";
  const floor = "batchJSON of 100 without deduplication ids (floor)";
  try {
    // Unmeasured: JIT warm-up of both paths.
    await measure("warm-up", receiver, 500, oneByOne);
    await measure("warm-up", receiver, 500, viaFanOut);
    // Two rounds in opposite orders, so neither always runs on a heap the other grew.
    const rows: FanOutRow[] = [];
    rows.push(await measure(baseline, receiver, n, oneByOne));
    rows.push(await measure(batched, receiver, n, viaFanOut));
    rows.push(await measure(floor, receiver, n, noDedup));
    rows.push(await measure(floor, receiver, n, noDedup));
    rows.push(await measure(batched, receiver, n, viaFanOut));
    rows.push(await measure(baseline, receiver, n, oneByOne));
    return { items: n, rows };
  } finally {
    await receiver.close();
  }
}

/** The Markdown `pnpm bench` prints. */
export function fanOutReport(r: FanOutBenchResult): string {
  const out = [`\n## Fan-out of ${r.items.toLocaleString("en-US")} one-time runs to the local QStash server (in memory), each delivered once`];
  out.push("| approach | requests | publish (s) | until all delivered (s) | peak RSS (MB) | RSS growth (MB) |\n|---|---:|---:|---:|---:|---:|");
  for (const x of r.rows) out.push(`| ${x.name} | ${x.requests} | ${x.publishSeconds.toFixed(2)} | ${x.seconds.toFixed(2)} | ${x.peakRssMb.toFixed(0)} | ${x.rssGrowthMb.toFixed(0)} |`);
  const mean = (name: string, pick: (x: FanOutRow) => number) => {
    const xs = r.rows.filter((x) => x.name.startsWith(name)).map(pick);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  const ratio = (a: string, b: string, pick: (x: FanOutRow) => number) => (mean(a, pick) / mean(b, pick)).toFixed(1);
  out.push(
    `- fanOut against the baseline, means of both rounds: ${ratio("publishJob", "fanOut", (x) => x.requests)}x fewer requests, publishing ${ratio("publishJob", "fanOut", (x) => x.publishSeconds)}x faster, all delivered ${ratio("publishJob", "fanOut", (x) => x.seconds)}x sooner`,
  );
  out.push(`- fanOut against the floor: all delivered in ${ratio("fanOut", "batchJSON", (x) => x.seconds)}x the floor's time`);
  return out.join("\n");
}
