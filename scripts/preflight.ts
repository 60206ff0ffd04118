import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { Redis as IORedis } from "ioredis";
import postgres from "postgres";

/**
 * The first step of `pnpm test`: the system parts the tests need, checked before the first test
 * instead of failing minutes in. PostgreSQL (TEST_DATABASE_URL), Redis (TEST_REDIS_URL) and
 * Chromium (CHROMIUM_PATH, the console's browser test). What is installed but stopped is started;
 * what is missing is installed when this runs as root (as CI does), else it stops at once with the
 * one command that installs it. PREFLIGHT_NO_INSTALL=1 never installs.
 */
const DB_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const root = process.getuid?.() === 0 && process.env.PREFLIGHT_NO_INSTALL !== "1";

type Answer = { ok: true; line: string } | { ok: false; why: string };

async function postgresAnswers(): Promise<Answer> {
  const sql = postgres(DB_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    const [r] = await sql<{ v: string }[]>`select current_setting('server_version') as v`;
    return { ok: true, line: `PostgreSQL ${r!.v} at ${hostOf(DB_URL)}` };
  } catch (err) {
    return { ok: false, why: (err as Error).message };
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

async function redisAnswers(): Promise<Answer> {
  const r = new IORedis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
  r.on("error", () => {});
  try {
    await r.connect();
    const info = await r.info("server");
    return { ok: true, line: `Redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? "?"} at ${hostOf(REDIS_URL)}` };
  } catch (err) {
    return { ok: false, why: (err as Error).message };
  } finally {
    r.disconnect();
  }
}

function chromiumAnswers(): Answer {
  if (!executable(CHROMIUM)) return { ok: false, why: `${CHROMIUM} is missing` };
  const v = spawnSync(CHROMIUM, ["--version"], { encoding: "utf8", timeout: 10_000 });
  return v.status === 0 ? { ok: true, line: `${v.stdout.trim()} at ${CHROMIUM}` } : { ok: false, why: `${CHROMIUM} --version failed: ${(v.stderr || v.stdout).trim()}` };
}

const hostOf = (url: string) => {
  const u = new URL(url);
  return `${u.hostname}:${u.port}`;
};
const executable = (file: string) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};
const has = (cmd: string) => (process.env.PATH ?? "").split(path.delimiter).some((dir) => dir && executable(path.join(dir, cmd)));
const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 600_000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => Promise<Answer> | Answer, ms: number): Promise<Answer> {
  let last = await check();
  for (const until = Date.now() + ms; !last.ok && Date.now() < until; last = await check()) await sleep(300);
  return last;
}

interface Part {
  name: string;
  /** The Debian/Ubuntu package that provides it. */
  pkg: string;
  check: () => Promise<Answer> | Answer;
  installed: () => boolean;
  /** Starts it when installed but stopped; undefined when that needs a command the user must run. */
  start?: () => string | undefined;
  /** What to run by hand to start it, when this process cannot. */
  startHint: () => string;
  fix: string;
}

const clusters = () =>
  run("pg_lsclusters", ["--no-header"])
    .stdout?.split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c.length >= 4) ?? [];

const parts: Part[] = [
  {
    name: "PostgreSQL",
    pkg: "postgresql",
    check: postgresAnswers,
    installed: () => has("pg_ctlcluster"),
    start: root
      ? () => {
          const [c] = clusters().filter((x) => x[3] === "down");
          if (!c) return "no stopped cluster found (pg_lsclusters)";
          const r = run("pg_ctlcluster", ["--skip-systemctl-redirect", c[0]!, c[1]!, "start"]);
          return r.status === 0 ? undefined : (r.stderr || r.stdout).trim();
        }
      : undefined,
    startHint: () => {
      const [c] = clusters().filter((x) => x[3] === "down");
      return c ? `sudo pg_ctlcluster ${c[0]} ${c[1]} start` : "sudo service postgresql start";
    },
    fix: "or point TEST_DATABASE_URL at a PostgreSQL superuser",
  },
  {
    name: "Redis",
    pkg: "redis-server",
    check: redisAnswers,
    installed: () => has("redis-server"),
    // Any user can start a Redis for the tests: in the background, on the port the tests use, no files.
    start: () => {
      const u = new URL(REDIS_URL);
      const r = run("redis-server", ["--daemonize", "yes", "--bind", u.hostname, "--port", u.port || "6379", "--save", "", "--appendonly", "no"]);
      return r.status === 0 ? undefined : (r.stderr || r.stdout).trim();
    },
    startHint: () => `redis-server --daemonize yes --port ${new URL(REDIS_URL).port || "6379"}`,
    fix: "or point TEST_REDIS_URL at a Redis server",
  },
  {
    name: "Chromium",
    pkg: "chromium",
    check: chromiumAnswers,
    installed: () => chromiumAnswers().ok,
    startHint: () => "",
    fix: "or set CHROMIUM_PATH to a Chromium or Chrome binary",
  },
];

async function main(): Promise<number> {
  const answers = await Promise.all(parts.map(async (p) => ({ p, a: await p.check() })));
  const missing = answers.filter(({ p, a }) => !a.ok && !p.installed()).map(({ p }) => p);
  if (missing.length && !root) {
    console.error(`pnpm test needs ${missing.map((p) => p.name).join(", ")}, which ${missing.length > 1 ? "are" : "is"} not installed on this machine. Install with:\n`);
    console.error(`  sudo apt-get install -y ${missing.map((p) => p.pkg).join(" ")}\n`);
    console.error(`(${missing.map((p) => `${p.name}: ${p.fix}`).join("; ")}), then run pnpm test again.`);
    return 1;
  }
  if (missing.length) {
    console.log(`installing ${missing.map((p) => p.pkg).join(" ")} (apt-get, as root) ...`);
    const update = run("apt-get", ["update", "-qq"]);
    process.env.DEBIAN_FRONTEND = "noninteractive"; // no debconf question may wait for a person
    const install = update.status === 0 ? run("apt-get", ["install", "-y", "-qq", ...missing.map((p) => p.pkg)]) : update;
    if (install.status !== 0) {
      console.error(`apt-get failed (exit ${install.status}): ${(install.stderr || install.stdout || "").trim().slice(-2000)}`);
      return 1;
    }
  }
  let failed = false;
  for (const { p, a } of answers) {
    let answer = a;
    // Only a server that is not there gets started; one that answers and refuses us is reported as it is.
    const down = !answer.ok && /ECONNREFUSED|ENOENT|timeout|closed/i.test(answer.why);
    if (down && p.installed() && p.start) {
      const problem = p.start();
      answer = problem ? { ok: false, why: `could not start it: ${problem}` } : await waitFor(p.check, 15_000);
      if (answer.ok) answer = { ok: true, line: `${answer.line} (started)` };
    } else if (!answer.ok && p.name === "Chromium") answer = p.check() as Answer;
    if (answer.ok) {
      console.log(`  ${answer.line}`);
      continue;
    }
    failed = true;
    const stopped = down && p.installed() && !p.start && p.startHint();
    console.error(
      stopped
        ? `${p.name} is installed but does not answer (${answer.why}). Start it:\n\n  ${p.startHint()}\n\n(${p.fix}), then run pnpm test again.`
        : `${p.name} does not answer: ${answer.why} (${p.fix}).`,
    );
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();
