import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** What every step of `pnpm test:first-hour` shares: the clone, a new user's shell, the stack's ports. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const dir = mkdtempSync(path.join(tmpdir(), "first-hour-"));
export const repo = path.join(dir, "cronlayer");
export const timings: [string, number][] = [];
export const stacks: ChildProcess[] = [];

// A new user's shell: none of this machine's test or deployment settings.
export type Vars = Record<string, string | undefined>;
export const env: Vars = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|SUPABASE_|QSTASH_|UPSTASH_|APP_|TEST_|CRON_SECRET|FORMS_API_KEY|CAMPAIGNS_API_KEY|PORT|NEXT_DIST_DIR|LOG_)/.test(k)));

export function check(ok: unknown, what: string): asserts ok {
  if (!ok) throw new Error(what);
}

export async function timed<T>(step: string, fn: () => Promise<T> | T): Promise<T> {
  const t = Date.now();
  const out = await fn();
  timings.push([step, Date.now() - t]);
  console.log(`ok  ${step} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  return out;
}

/** Waits, if need be, until 2-30 s past a minute: the next half minute holds no heartbeat tick. */
export async function clearOfTheTick(): Promise<void> {
  const s = new Date().getUTCSeconds();
  if (s >= 2 && s < 30) return;
  await new Promise((r) => setTimeout(r, ((62 - s) % 60) * 1000));
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

export const ports = { PORT: await freePort(), PGLITE_PORT: await freePort(), QSTASH_PORT: await freePort(), REDIS_BRIDGE_PORT: await freePort() };
export const stackEnv = { ...env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) } as NodeJS.ProcessEnv;

/** `pnpm <args>` in the clone; its output and exit code. */
export function pnpm(args: string[], extraEnv: Vars = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn("pnpm", args, { cwd: repo, env: { ...env, ...extraEnv } as NodeJS.ProcessEnv });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (out += d));
    child.on("close", (code) => resolve({ code, out }));
  });
}

export async function until(ok: () => boolean | Promise<boolean>, timeoutMs: number, why: () => string): Promise<void> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise((r) => setTimeout(r, 500))) if (await ok()) return;
  throw new Error(why());
}

export async function json<T>(args: string[]): Promise<T> {
  const r = await pnpm(["-s", ...args, "--json"]);
  check(r.code === 0, `pnpm ${args.join(" ")} exited ${r.code}:\n${r.out}`);
  return JSON.parse(r.out.slice(r.out.search(/^[[{]/m))) as T;
}

export const heartbeats = async () => (await json<{ rows: { job: string; runs: number }[] }>(["qstash:stats", "--job", "heartbeat"])).rows.find((r) => r.job === "heartbeat")?.runs ?? 0;
