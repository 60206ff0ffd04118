import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { Client } from "@upstash/qstash";
import type { startQStashServer as StartFn } from "../dev/qstash/server";
import { qstashOf } from "./qstash-journal";

/**
 * `pnpm bench qstash-flow [--before <ref>]`: the local QStash server (in memory, wall clock)
 * holding 1,000, 10,000 and 100,000 due messages under a paused flow-control key, and what one
 * more message costs it at each size (300 of each; `BENCH_QSTASH_MEASURED`):
 * - publish: single publishes into the held key, each awaited;
 * - delivery, another key: messages of a second key (parallelism 8, published paused, then
 *   resumed), until the destination has seen all of them;
 * - delivery, the held key: the key resumed (parallelism 8), until as many of it arrived.
 * Per message, in microseconds; the ratio to the 1,000-held row says whether the cost grows with
 * what is held. With `--before`, the same against the server of `<ref>` (up to 10,000 held: its
 * scan makes filling 100,000 take hours).
 */

const SIZES = [1_000, 10_000, 100_000];
const MEASURED = Number(process.env.BENCH_QSTASH_MEASURED ?? 300);

// The destination counts requests per path on its own thread and says when it has seen `want`.
const DESTINATION = `
const { createServer } = require("node:http");
const { parentPort } = require("node:worker_threads");
let want = Infinity, path = "", seen = 0;
const server = createServer((req, res) => {
  if (req.url === path && ++seen === want) { want = Infinity; parentPort.postMessage({ done: true }); }
  req.resume();
  req.on("end", () => res.end());
});
server.listen(0, "127.0.0.1", () => parentPort.postMessage({ port: server.address().port }));
parentPort.on("message", (m) => { if (m.expect) { want = m.expect; path = m.path; seen = 0; } if (m.close) server.close(() => process.exit(0)); });
`;

interface Destination {
  url: string;
  expect(n: number, path: string): Promise<void>;
  close(): Promise<void>;
}

async function startDestination(): Promise<Destination> {
  const worker = new Worker(DESTINATION, { eval: true });
  const port = await new Promise<number>((resolve) => worker.once("message", (m: { port: number }) => resolve(m.port)));
  return {
    url: `http://127.0.0.1:${port}`,
    expect(n, p) {
      const done = new Promise<void>((resolve) => worker.once("message", () => resolve()));
      worker.postMessage({ expect: n, path: p });
      return done;
    },
    async close() {
      worker.postMessage({ close: true });
      await new Promise((resolve) => worker.once("exit", resolve));
    },
  };
}

export interface FlowRow {
  code: string;
  held: number;
  /** Microseconds per message. */
  publish: number;
  deliverOther: number;
  deliverHeld: number;
}

async function waitList(client: Client, key: string, n: number) {
  while ((await client.flowControl.get(key)).waitListSize < n) await new Promise((r) => setTimeout(r, 20));
}

async function fill(client: Client, url: string, key: string, n: number) {
  for (let i = 0; i < n; i += 100) {
    await client.batchJSON(Array.from({ length: Math.min(100, n - i) }, (_, j) => ({ url, body: { i: i + j }, flowControl: { key, parallelism: 8 } })));
  }
  await waitList(client, key, n);
}

async function measure(start: typeof StartFn, dest: Destination, held: number): Promise<Omit<FlowRow, "code" | "held">> {
  const server = await start({ port: 0 });
  // A keep-alive socket the server closes as a request goes out is reset (seen under load): retry.
  const client = new Client({ baseUrl: server.url, token: server.token, retry: { retries: 3, backoff: () => 50 }, enableTelemetry: false });
  try {
    await client.flowControl.pause("held");
    await client.flowControl.pause("other");
    await fill(client, `${dest.url}/held`, "held", held);
    // CPU time of this process (server, client and destination alike), not wall time: on a shared
    // machine the wall clock measures the neighbours too. Per message, in microseconds.
    const cpu = () => {
      const u = process.cpuUsage();
      return u.user + u.system;
    };
    const us = (t0: number) => (cpu() - t0) / MEASURED;

    let t0 = cpu();
    for (let i = 0; i < MEASURED; i++) await client.publishJSON({ url: `${dest.url}/held`, body: { i }, flowControl: { key: "held", parallelism: 8 } });
    const publish = us(t0);

    await fill(client, `${dest.url}/other`, "other", MEASURED);
    let arrived = dest.expect(MEASURED, "/other");
    t0 = cpu();
    await client.flowControl.resume("other");
    await arrived;
    const deliverOther = us(t0);

    arrived = dest.expect(MEASURED, "/held");
    t0 = cpu();
    await client.flowControl.resume("held");
    await arrived;
    const deliverHeld = us(t0);
    return { publish, deliverOther, deliverHeld };
  } finally {
    await server.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function qstashFlowBench(ref?: string, rounds = Number(process.env.BENCH_QSTASH_ROUNDS ?? 3)): Promise<FlowRow[]> {
  const after = ((await import("../dev/qstash/server")) as { startQStashServer: typeof StartFn }).startQStashServer;
  const old = ref === undefined ? undefined : qstashOf(ref);
  const before = old && ((await import(pathToFileURL(path.join(old.dir, "dev/qstash/server.ts")).href)) as { startQStashServer: typeof StartFn }).startQStashServer;
  const dest = await startDestination();
  const codes = [...(before ? [{ name: `before (${old!.sha})`, start: before, max: 10_000 }] : []), { name: "working tree", start: after, max: Infinity }];
  const rows: FlowRow[] = [];
  try {
    // Unmeasured warm-up of each, then for each size the codes in turns, `rounds` times.
    for (const c of codes) await measure(c.start, dest, 1_000);
    for (const held of SIZES) {
      const runs = new Map(codes.map((c) => [c.name, [] as Omit<FlowRow, "code" | "held">[]]));
      for (let r = 0; r < rounds; r++) {
        for (const c of codes) {
          if (held > c.max) continue;
          const t0 = performance.now();
          runs.get(c.name)!.push(await measure(c.start, dest, held));
          console.error(`qstash-flow: ${c.name}, ${held} held, round ${r + 1}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        }
      }
      for (const [code, xs] of runs) {
        if (xs.length === 0) continue;
        rows.push({ code, held, publish: median(xs.map((x) => x.publish)), deliverOther: median(xs.map((x) => x.deliverOther)), deliverHeld: median(xs.map((x) => x.deliverHeld)) });
      }
    }
  } finally {
    await dest.close();
  }
  return rows;
}

export function qstashFlowReport(rows: FlowRow[]): string {
  const out = ["\n## Local QStash server: CPU per message with messages held under flow control (µs of the process per message; ratio to 1,000 held)"];
  out.push("| code | held | publish | ratio | delivery, another key | ratio | delivery, the held key | ratio |\n|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const x of rows) {
    const base = rows.find((b) => b.code === x.code && b.held === SIZES[0])!;
    const cell = (v: number, b: number) => `${v.toFixed(0)} | ${(v / b).toFixed(2)}`;
    out.push(`| ${x.code} | ${x.held.toLocaleString("en-US")} | ${cell(x.publish, base.publish)} | ${cell(x.deliverOther, base.deliverOther)} | ${cell(x.deliverHeld, base.deliverHeld)} |`);
  }
  return out.join("\n");
}
