import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, lstatSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { signDelivery } from "../dev/qstash/sign";
import { checkoutOf } from "./before";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DIST = ".next-bench";
const KEY = "sig_bench_current_key_000000";
const JOB = "heartbeat"; // always registered; its handler's one `select` is the job's own work
const CONCURRENCY = 20;
const SECONDS = Number(process.env.BENCH_DELIVERY_SECONDS ?? 6);

interface Phase {
  rps: number;
  /** CPU ms per answered request: the Next server's process, and the database backends serving it. */
  appCpu: number;
  dbCpu: number;
  mean: number;
  p99: number;
  errors: number;
  firstError?: string;
}
export interface Server {
  name: string;
  url: string;
  pid: number;
  database: string;
  stop(): Promise<void>;
}

/**
 * `next build` of a tree into .next-bench, as a deployment builds it. A checkout in the temp folder
 * gets a hard-linked copy of node_modules: Turbopack refuses a node_modules symlinked from outside
 * its root.
 */
function build(dir: string, reuse: boolean) {
  if (reuse && existsSync(path.join(dir, DIST, "BUILD_ID"))) return;
  const nm = path.join(dir, "node_modules");
  if (lstatSync(nm).isSymbolicLink()) {
    rmSync(nm);
    execFileSync("cp", ["-al", path.join(ROOT, "node_modules"), nm]);
  }
  const r = spawnSync(process.execPath, [path.join(dir, "node_modules/next/dist/bin/next"), "build"], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "production" as const, NEXT_TELEMETRY_DISABLED: "1", NEXT_DIST_DIR: DIST },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`next build in ${dir} failed:\n${r.stdout}\n${r.stderr}`);
}

/** `next start` of that build on its own port and database, logging as production does (info). */
export async function start(name: string, dir: string, port: number, databaseUrl: string): Promise<Server> {
  const url = `http://127.0.0.1:${port}`;
  // e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=bench/.out/prof" to profile the server.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, path.join(dir, "node_modules/next/dist/bin/next"), "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: dir,
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: "production" as const,
      NEXT_TELEMETRY_DISABLED: "1",
      NEXT_DIST_DIR: DIST,
      APP_ENV: "test",
      APP_URL: url,
      QSTASH_URL: "http://127.0.0.1:1",
      QSTASH_TOKEN: "bench-token",
      QSTASH_CURRENT_SIGNING_KEY: KEY,
      QSTASH_NEXT_SIGNING_KEY: "sig_bench_next_key_00000000",
      CRON_SECRET: "bench-cron-secret-0123456789",
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: "info",
      // The app's default pool (5) unless set: BENCH_DATABASE_POOL_MAX=20 shows what waiting for a connection costs.
      ...(process.env.BENCH_DATABASE_POOL_MAX ? { DATABASE_POOL_MAX: process.env.BENCH_DATABASE_POOL_MAX } : {}),
    },
  });
  // Warnings and errors go to stderr: kept (the last 20 kB) to explain a failure, not printed.
  let err = "";
  child.stderr!.on("data", (b: Buffer) => (err = (err + b.toString("utf8")).slice(-20_000)));
  for (let i = 0; ; i++) {
    const ok = await send(url, false, new Agent()).then((r) => r.status === 401, () => false);
    if (ok) break;
    if (child.exitCode !== null || i > 300) throw new Error(`next start for ${name} did not answer at ${url}:\n${err}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const exited = new Promise((r) => child.once("exit", r));
  return {
    name,
    url,
    pid: child.pid!,
    database: new URL(databaseUrl).pathname.slice(1),
    async stop() {
      process.kill(-child.pid!, "SIGTERM");
      await exited;
    },
  };
}

const TICK_MS = 10; // Linux reports process CPU time in clock ticks of 1/100 s

/** utime + stime of a process (and its threads), in ms; 0 once it is gone. */
function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** The server's CPU, and each backend's connected to its database (the same PostgreSQL serves other work). */
async function cpuOf(s: Server): Promise<{ app: number; db: Map<number, number> }> {
  const sql = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  const rows = await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = ${s.database} and pid <> pg_backend_pid()`;
  await sql.end();
  return { app: cpuMs(s.pid), db: new Map(rows.map((r) => [r.pid, cpuMs(r.pid)])) };
}
const adminUrl = () => process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const body = JSON.stringify({ bench: true });

/** One POST: signed as QStash signs a delivery (a fresh message id and jti each), or with no credentials. */
function send(base: string, signed: boolean, agent: Agent): Promise<{ status: number; text: string }> {
  const p = `/api/jobs/${JOB}`;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (signed) {
    headers["upstash-signature"] = signDelivery({ url: `${base}${p}`, body, key: KEY });
    headers["upstash-message-id"] = `msg_${Math.random().toString(36).slice(2)}${Date.now()}`;
  }
  return new Promise((resolve, reject) => {
    const req = request(`${base}${p}`, { method: "POST", agent, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** CONCURRENCY clients, each sending as soon as its last answer came, for `seconds`. */
export async function phase(s: Server, signed: boolean, seconds: number): Promise<Phase> {
  const cpu0 = await cpuOf(s);
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const lat: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        const r = await send(s.url, signed, agent).catch((e: Error) => ({ status: 0, text: e.message }));
        const ok = signed ? r.status === 200 && r.text.includes('"succeeded"') : r.status === 401;
        if (ok) lat.push(performance.now() - t);
        else if (errors++ === 0) firstError = `${r.status} ${r.text.slice(0, 200)}`;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  const cpu1 = await cpuOf(s);
  const per = (a: number, b: number) => (b - a) / Math.max(1, lat.length);
  lat.sort((a, b) => a - b);
  const mean = lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length);
  // A backend that connected during the phase (the pool reconnects after its idle timeout) counts whole.
  const db0 = [...cpu1.db].reduce((t, [pid, ms]) => t + ms - (cpu0.db.get(pid) ?? 0), 0);
  return { rps: lat.length / elapsed, appCpu: per(cpu0.app, cpu1.app), dbCpu: db0 / Math.max(1, lat.length), mean, p99: lat[Math.floor(lat.length * 0.99)] ?? 0, errors, firstError };
}

/**
 * `pnpm bench deliveries [--before <ref>]`: signed deliveries to a job route of a production Next
 * server (`next build` + `next start`) at concurrency 20, against its floor: anonymous requests to
 * the same route on the same server (answered 401 before any database work), in turns (anonymous,
 * signed, three times), and with --before the same on that commit's build, in turns with this tree's.
 */
export async function deliveriesBench(database: (name?: string, migrations?: string) => Promise<string>, o: { before?: string; reuseBuild: boolean }): Promise<string> {
  const sides: { name: string; dir: string; db: string }[] = [];
  if (o.before) {
    const b = checkoutOf(o.before);
    sides.push({ name: `before (${b.sha})`, dir: b.dir, db: await database(`cronlayer_bench_${b.sha}`, path.join(b.dir, "supabase/migrations")) });
  }
  sides.push({ name: `after (${execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim()} + working tree)`, dir: ROOT, db: await database() });
  for (const s of sides) build(s.dir, o.reuseBuild);
  const servers: Server[] = [];
  try {
    for (const [i, s] of sides.entries()) servers.push(await start(s.name, s.dir, 3900 + i, s.db));
    for (const s of servers) for (const signed of [false, true]) await phase(s, signed, 1); // warm-up
    const rows: string[] = [];
    const ratios = new Map<string, number[]>();
    for (const round of [1, 2, 3]) {
      // Each side goes first in turn: the first of a round starts from the other's load.
      for (const s of round % 2 ? servers : [...servers].reverse()) {
        const anon = await phase(s, false, SECONDS);
        const signed = await phase(s, true, SECONDS);
        const ratio = signed.rps / anon.rps;
        ratios.set(s.name, [...(ratios.get(s.name) ?? []), ratio]);
        const err = signed.errors + anon.errors ? ` (${signed.firstError ?? anon.firstError})` : "";
        const cpu = `${anon.appCpu.toFixed(2)} | ${signed.appCpu.toFixed(2)} | ${signed.dbCpu.toFixed(2)}`;
        rows.push(`| ${s.name}, round ${round} | ${anon.rps.toFixed(0)} | ${anon.mean.toFixed(1)} | ${signed.rps.toFixed(0)} | ${signed.mean.toFixed(1)} | ${signed.p99.toFixed(1)} | ${cpu} | ${signed.errors + anon.errors}${err} | ${ratio.toFixed(2)}x |`);
      }
    }
    const load = os.loadavg().map((l) => l.toFixed(1)).join(", ");
    const summary = [...ratios].map(([n, r]) => `- ${n}: signed / anonymous ${r.map((x) => x.toFixed(2)).join(", ")}`).concat(`- load average at the end: ${load}`);
    return [
      `\n## Signed deliveries at concurrency ${CONCURRENCY}, production server (next start), ${SECONDS} s per phase`,
      "| code | anonymous 401/s | anonymous mean (ms) | signed deliveries/s | signed mean (ms) | signed p99 (ms) | server CPU per 401 (ms) | server CPU per delivery (ms) | database CPU per delivery (ms) | errors | signed / anonymous |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
      ...rows,
      ...summary,
    ].join("\n");
  } finally {
    for (const s of servers) await s.stop();
  }
}
