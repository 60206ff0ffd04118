import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { startQStashServer as StartFn } from "../dev/qstash/server";

/**
 * `pnpm bench qstash-journal [--before <ref>]`: publish rates of the local QStash server with its
 * state on disk, the server of `<ref>` (default HEAD: the whole-file rewrite per accepted request)
 * against the working tree's (the append-only journal), side by side in one process, in turns.
 * Rows: 1,000 single publishes awaited one by one; the same with 16 in flight at a time (many app
 * requests publishing at once); 10 batches of 100. Published an hour ahead: nothing is delivered
 * while measuring. Each round starts a fresh server on an empty state directory.
 *
 * The official Client runs in a worker thread, as the app runs in a process of its own: in one
 * thread the client's own cost (undici, the SDK: about two thirds of the CPU in a profile) would
 * be measured along with the server's, and would cap both columns at the same rate.
 */

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/**
 * `dev/qstash` of another commit, extracted with `git archive` (which reads the repository and
 * changes nothing in it) into the temp folder, with this tree's node_modules linked in.
 */
export function qstashOf(ref: string): { dir: string; sha: string } {
  const sha = execFileSync("git", ["rev-parse", "--short=12", `${ref}^{commit}`], { cwd: ROOT, encoding: "utf8" }).trim();
  const dir = path.join(os.tmpdir(), `cronlayer-qstash-${sha}`);
  if (!existsSync(path.join(dir, "dev/qstash/server.ts"))) {
    mkdirSync(dir, { recursive: true });
    // Later servers share the duration parser with the app (lib/time); older ones have none.
    const shared = execFileSync("git", ["ls-tree", "--name-only", sha, "lib/time"], { cwd: ROOT, encoding: "utf8" }).trim();
    const tar = execFileSync("git", ["archive", "--format=tar", sha, "dev/qstash", ...(shared ? ["lib/time"] : [])], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    execFileSync("tar", ["-x", "-C", dir], { input: tar });
  }
  if (!existsSync(path.join(dir, "node_modules"))) symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  return { dir, sha };
}

type Shape = "single" | "single, 16 in flight" | "batches of 100";
const SHAPES: Shape[] = ["single", "single, 16 in flight", "batches of 100"];

// The publisher: one run per message from the main thread, answering the seconds it took.
const CLIENT = `
const { parentPort, workerData } = require("node:worker_threads");
const { Client } = require(workerData.sdk);
parentPort.on("message", async ({ baseUrl, token, n, batch, inFlight }) => {
  const client = new Client({ baseUrl, token, retry: false, enableTelemetry: false });
  const url = "http://127.0.0.1:9/never";
  const notBefore = Math.floor(Date.now() / 1000) + 3600;
  const t0 = performance.now();
  if (batch) {
    for (let i = 0; i < n; i += 100) await client.batchJSON(Array.from({ length: Math.min(100, n - i) }, (_, j) => ({ url, body: { i: i + j }, notBefore })));
  } else {
    let next = 0;
    const one = async () => { while (next < n) await client.publishJSON({ url, body: { i: next++ }, notBefore }); };
    await Promise.all(Array.from({ length: inFlight }, one));
  }
  parentPort.postMessage((performance.now() - t0) / 1000);
});
`;

let publisher: Worker | undefined;
function publish(baseUrl: string, token: string, n: number, shape: Shape): Promise<number> {
  publisher ??= new Worker(CLIENT, { eval: true, workerData: { sdk: createRequire(import.meta.url).resolve("@upstash/qstash") } });
  const w = publisher;
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => reject(err);
    w.once("error", fail);
    w.once("message", (seconds: number) => {
      w.off("error", fail);
      resolve(seconds);
    });
    w.postMessage({ baseUrl, token, n, batch: shape === "batches of 100", inFlight: shape === "single" ? 1 : 16 });
  });
}

async function rate(start: typeof StartFn, shape: Shape, n: number, onDisk = true): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "cronlayer-bench-journal-"));
  const server = await start({ port: 0, ...(onDisk && { stateFile: path.join(dir, "qstash.json") }) });
  try {
    const perSecond = n / (await publish(server.url, server.token, n, shape));
    if (Object.keys(server.state.messages).length !== n) throw new Error(`expected ${n} pending messages, the server holds ${Object.keys(server.state.messages).length}`);
    return perSecond;
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface JournalBenchResult {
  before: string;
  messages: number;
  rows: { shape: Shape; before: number; after: number; memory: number }[];
}

export async function qstashJournalBench(ref = "HEAD", n = Number(process.env.BENCH_QSTASH_MESSAGES ?? 1000), rounds = 3): Promise<JournalBenchResult> {
  const old = qstashOf(ref);
  const before = ((await import(pathToFileURL(path.join(old.dir, "dev/qstash/server.ts")).href)) as { startQStashServer: typeof StartFn }).startQStashServer;
  const after = ((await import("../dev/qstash/server")) as { startQStashServer: typeof StartFn }).startQStashServer;
  const result: JournalBenchResult = { before: old.sha, messages: n, rows: [] };
  for (const shape of SHAPES) {
    // Unmeasured warm-up of both, then rounds alternating before and after; the median is reported.
    await rate(before, shape, 100);
    await rate(after, shape, 100);
    const b: number[] = [];
    const a: number[] = [];
    const m: number[] = [];
    for (let r = 0; r < rounds; r++) {
      b.push(await rate(before, shape, n));
      a.push(await rate(after, shape, n));
      // The same server with nothing on disk: the ceiling the HTTP layer and the SDK leave.
      m.push(await rate(after, shape, n, false));
    }
    result.rows.push({ shape, before: median(b), after: median(a), memory: median(m) });
  }
  await publisher?.terminate();
  publisher = undefined;
  return result;
}

export function qstashJournalReport(r: JournalBenchResult): string {
  const out = [`\n## Local QStash server with its state on disk: whole-file rewrite (${r.before}) against the journal (working tree), ${r.messages.toLocaleString("en-US")} messages`];
  out.push(`| publishes | state file, ${r.before} (msg/s) | journal, working tree (msg/s) | journal / state file | in memory, working tree (msg/s) | journal / in memory |\n|---|---:|---:|---:|---:|---:|`);
  for (const x of r.rows) out.push(`| ${x.shape} | ${x.before.toFixed(0)} | ${x.after.toFixed(0)} | ${(x.after / x.before).toFixed(1)}x | ${x.memory.toFixed(0)} | ${(x.after / x.memory).toFixed(2)} |`);
  return out.join("\n");
}
