import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { portFree } from "../dev/stack";

/**
 * `pnpm test:first-hour`: what a new user does first, on a fresh clone of the committed tree
 * (`-- --working-tree`: a copy of the files as they are):
 * install, `pnpm dev` in a terminal, the banner's diagnostics command, `db:seed`, `job:run` (three
 * at once against the embedded database), a second `pnpm dev` in the same checkout, Ctrl-C, a
 * restart, the next heartbeat, Ctrl-C. It fails on a dead letter, a failed run, a non-zero exit,
 * ELIFECYCLE, or a port still listening, and prints how long each step took.
 */
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), "first-hour-"));
const repo = path.join(dir, "cronlayer");
const timings: [string, number][] = [];
const stacks: ChildProcess[] = [];

// A new user's shell: none of this machine's test or deployment settings.
type Vars = Record<string, string | undefined>;
const env: Vars = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|SUPABASE_|QSTASH_|UPSTASH_|APP_|TEST_|CRON_SECRET|PORT|NEXT_DIST_DIR|LOG_)/.test(k)));

function check(ok: unknown, what: string): asserts ok {
  if (!ok) throw new Error(what);
}

async function timed<T>(step: string, fn: () => Promise<T> | T): Promise<T> {
  const t = Date.now();
  const out = await fn();
  timings.push([step, Date.now() - t]);
  console.log(`ok  ${step} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  return out;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

const ports = { PORT: await freePort(), PGLITE_PORT: await freePort(), QSTASH_PORT: await freePort(), REDIS_BRIDGE_PORT: await freePort() };
const stackEnv = { ...env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) } as NodeJS.ProcessEnv;

/** `pnpm <args>` in the clone; its output and exit code. */
function pnpm(args: string[], extraEnv: Vars = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn("pnpm", args, { cwd: repo, env: { ...env, ...extraEnv } as NodeJS.ProcessEnv });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (out += d));
    child.on("close", (code) => resolve({ code, out }));
  });
}

/** `pnpm dev` on a terminal (a pty from script(1)), as a user runs it: Ctrl-C is a key here. */
function startDev() {
  const child = spawn("script", ["-qfec", "pnpm dev", "/dev/null"], { cwd: repo, env: stackEnv, stdio: ["pipe", "pipe", "pipe"] });
  stacks.push(child);
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d));
  child.stderr.on("data", (d: Buffer) => (out += d));
  const exited = new Promise<number | null>((r) => child.on("close", r));
  return {
    output: () => out.replace(/\r/g, ""),
    banner: () => until(() => /Ctrl-C stops everything/.test(out), 240_000, () => `no banner:\n${out}`),
    async stop() {
      child.stdin.write("\u0003");
      const code = await Promise.race([exited, new Promise<"hung">((r) => setTimeout(r, 30_000, "hung"))]);
      check(code === 0, `pnpm dev did not exit 0 on Ctrl-C (${code}):\n${out.slice(-2000)}`);
      check(!out.includes("ELIFECYCLE"), `pnpm dev reported ELIFECYCLE:\n${out.slice(-2000)}`);
      check(/stopped\s*$/.test(out.replace(/\r/g, "")), `pnpm dev did not end with "stopped":\n${out.slice(-500)}`);
    },
  };
}

async function until(ok: () => boolean | Promise<boolean>, timeoutMs: number, why: () => string): Promise<void> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise((r) => setTimeout(r, 500))) if (await ok()) return;
  throw new Error(why());
}

async function json<T>(args: string[]): Promise<T> {
  const r = await pnpm(["-s", ...args, "--json"]);
  check(r.code === 0, `pnpm ${args.join(" ")} exited ${r.code}:\n${r.out}`);
  return JSON.parse(r.out.slice(r.out.search(/^[[{]/m))) as T;
}

const heartbeats = async () => (await json<{ rows: { job: string; runs: number }[] }>(["qstash:stats", "--job", "heartbeat"])).rows.find((r) => r.job === "heartbeat")?.runs ?? 0;

async function main() {
  // --working-tree: the files as they are now (committed or not), for trying a change before committing it.
  if (process.argv.includes("--working-tree")) {
    await timed("copy of the working tree", () => execFileSync("bash", ["-c", `mkdir -p '${repo}' && git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -xf - -C '${repo}'`], { cwd: ROOT }));
  } else await timed("clone", () => execFileSync("git", ["clone", "-q", ROOT, repo]));
  await timed("pnpm install", () => execFileSync("pnpm", ["install", "--frozen-lockfile", "--prefer-offline", "--reporter=silent"], { cwd: repo, env: env as NodeJS.ProcessEnv, stdio: "inherit" }));

  const first = startDev();
  await timed("pnpm dev: banner, cold", () => first.banner());
  const curl = /curl -H "Authorization: Bearer ([^"]+)" (\S+\/api\/diagnostics)/.exec(first.output());
  check(curl, "the banner has no diagnostics command");
  await timed("the banner's diagnostics command", async () => {
    const res = await fetch(curl[2]!, { headers: { authorization: `Bearer ${curl[1]}` } });
    check(res.status === 200, `diagnostics answered ${res.status}: ${await res.text()}`);
  });
  await timed("a second pnpm dev in the checkout is refused", async () => {
    const other = { PORT: String(await freePort()), PGLITE_PORT: String(await freePort()), QSTASH_PORT: String(await freePort()), REDIS_BRIDGE_PORT: String(await freePort()) };
    const r = await pnpm(["-s", "dev"], other);
    check(r.code === 1 && /\.data is in use by another pnpm dev \(pid \d+/.test(r.out), `second pnpm dev: ${r.code}\n${r.out}`);
  });
  await timed("pnpm db:seed", async () => {
    const r = await pnpm(["-s", "db:seed"]);
    check(r.code === 0, `db:seed exited ${r.code}:\n${r.out}`);
  });
  await timed("pnpm job:run, three at once", async () => {
    const runs = await Promise.all([1, 2, 3].map(() => pnpm(["-s", "job:run", "appointment-reminders"])));
    // Two may find the third holding the job's lease: skipped (exit 0) is the answer then, not a failure.
    for (const r of runs) check(r.code === 0 && (/succeeded .*failed 0/.test(r.out) || /skipped/.test(r.out)) && !/note: no local stack/.test(r.out), `job:run: ${r.code}\n${r.out}`);
    check(runs.some((r) => /succeeded/.test(r.out)), `no job:run succeeded:\n${runs.map((r) => r.out).join("\n")}`);
  });
  await timed("Ctrl-C", () => first.stop());
  for (const [name, port] of Object.entries(ports)) check(await portFree(port), `${name} ${port} still listening after Ctrl-C`);

  const before = await heartbeats().catch(() => 0);
  const second = startDev();
  await timed("pnpm dev: banner, warm (restart)", () => second.banner());
  await timed("the next heartbeat after the restart", () => until(async () => (await heartbeats()) > before, 90_000, () => "no heartbeat ran within 90 s of the restart"));
  const dead = await json<unknown[]>(["qstash:dlq", "list"]);
  check(dead.length === 0, `dead letters: ${JSON.stringify(dead)}`);
  const stats = await json<{ rows: { job: string; failed: number }[] }>(["qstash:stats"]);
  const failed = stats.rows.filter((r) => r.failed > 0);
  check(failed.length === 0, `failed runs: ${JSON.stringify(failed)}`);
  await timed("Ctrl-C after the restart", () => second.stop());
  for (const [name, port] of Object.entries(ports)) check(await portFree(port), `${name} ${port} still listening after Ctrl-C`);
}

try {
  await main();
  console.log("\n| step | seconds |\n|---|---:|");
  for (const [step, ms] of timings) console.log(`| ${step} | ${(ms / 1000).toFixed(1)} |`);
} catch (err) {
  console.error(`first hour failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  for (const s of stacks) if (s.exitCode === null) s.kill("SIGKILL");
  // What a failed run left behind: the stack's processes run from the clone.
  try {
    execFileSync("pkill", ["-KILL", "-f", repo]);
  } catch {
    /* nothing left */
  }
  rmSync(dir, { recursive: true, force: true });
}
