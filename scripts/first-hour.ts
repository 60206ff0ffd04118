import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Page } from "playwright-core";
import { portFree } from "../dev/stack";
import { watchConsole } from "../tests/e2e/browser-console";

/**
 * `pnpm test:first-hour`: what a new user does first, on a fresh clone of the committed tree
 * (`-- --working-tree`: a copy of the files as they are):
 * install, `pnpm dev` in a terminal, the banner's diagnostics command, a sign-in to the console in
 * a browser right after the banner (no console error, no hydration warning, no reload loop),
 * `db:migrate` against the running stack, a campaign created through its API, `db:seed`, `job:run`
 * (three at once against the embedded database), a second `pnpm dev` in the same checkout, Ctrl-C,
 * a restart without a terminal, the next heartbeat, a stop by signal, a start killed with SIGKILL.
 * It fails on a dead letter, a failed run, a non-zero exit, ELIFECYCLE, a warning or error line
 * while a stack starts or stops, or a port still listening, and prints how long each step took.
 */
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), "first-hour-"));
const repo = path.join(dir, "cronlayer");
const timings: [string, number][] = [];
const stacks: ChildProcess[] = [];

// A new user's shell: none of this machine's test or deployment settings.
type Vars = Record<string, string | undefined>;
const env: Vars = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|SUPABASE_|QSTASH_|UPSTASH_|APP_|TEST_|CRON_SECRET|FORMS_API_KEY|CAMPAIGNS_API_KEY|PORT|NEXT_DIST_DIR|LOG_)/.test(k)));

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

/** Waits, if need be, until 2-30 s past a minute: the next half minute holds no heartbeat tick. */
async function clearOfTheTick(): Promise<void> {
  const s = new Date().getUTCSeconds();
  if (s >= 2 && s < 30) return;
  await new Promise((r) => setTimeout(r, ((62 - s) % 60) * 1000));
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

/**
 * `pnpm dev` on a terminal (a pty from script(1)), as a user runs it: Ctrl-C is a key there. With
 * `terminal: false`, as CI or a service manager runs it: in a process group of its own, stopped
 * by a signal to the group.
 */
function startDev({ terminal = true } = {}) {
  const child = terminal
    ? spawn("script", ["-qfec", "pnpm dev", "/dev/null"], { cwd: repo, env: stackEnv, stdio: ["pipe", "pipe", "pipe"] })
    : spawn("pnpm", ["dev"], { cwd: repo, env: stackEnv, stdio: ["ignore", "pipe", "pipe"], detached: true });
  stacks.push(child);
  let out = "";
  let stopAt = -1;
  child.stdout!.on("data", (d: Buffer) => (out += d));
  child.stderr!.on("data", (d: Buffer) => (out += d));
  const exited = new Promise<number | null>((r) => child.on("close", r));
  // Colours off: Next paints a 503 red, the pretty log paints "warn" yellow.
  // eslint-disable-next-line no-control-regex
  const clean = (text: string) => text.replace(/\r/g, "").replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
  const startText = () => clean(out.slice(0, out.search(/Ctrl-C stops everything.*\n/) + 1));
  return {
    output: () => clean(out),
    banner: () => until(() => /Ctrl-C stops everything/.test(out), 240_000, () => `no banner:\n${out}`),
    /** Start-up and shutdown say nothing that reads as a failure. */
    quiet() {
      const noisy = [...noise(startText()), ...(stopAt >= 0 ? noise(clean(out.slice(stopAt))) : [])];
      check(noisy.length === 0, `pnpm dev printed warning or error lines while starting or stopping:\n${noisy.join("\n")}\n--- output:\n${clean(out).slice(-3000)}`);
    },
    async stop() {
      stopAt = out.length;
      if (terminal) child.stdin!.write("\u0003");
      else process.kill(-child.pid!, "SIGINT");
      const code = await Promise.race([exited, new Promise<"hung">((r) => setTimeout(r, 30_000, "hung"))]);
      check(code === 0, `pnpm dev did not exit 0 on ${terminal ? "Ctrl-C" : "SIGINT"} (${code}):\n${out.slice(-2000)}`);
      check(!out.includes("ELIFECYCLE"), `pnpm dev reported ELIFECYCLE:\n${out.slice(-2000)}`);
      check(/stopped\s*$/.test(clean(out)), `pnpm dev did not end with "stopped":\n${out.slice(-500)}`);
    },
    /** As a CI timeout or a closed terminal ends it: SIGKILL to pnpm dev's process group, no chance to clean up. */
    async kill() {
      process.kill(-child.pid!, "SIGKILL");
      await exited;
    },
  };
}

/** Lines that read as a failure: warnings, errors, a 4xx/5xx in Next's request log, ELIFECYCLE. */
function noise(text: string): string[] {
  return text.split("\n").filter((l) => /\bwarn(ing)?\b|\berror\b|"level":"(warn|error)"|⚠|⨯|ELIFECYCLE|^\s*[A-Z]+ \/\S* [45]\d\d in /i.test(l));
}

/**
 * A person opening the console link of the banner at once: signed in (the time it took is printed),
 * a job's page opened, and nothing in the browser's console (hydration errors, invalid HTML,
 * failed loads) or a page that keeps reloading itself. Then a second tab sits on the sign-in page
 * while the first opens a job's page, as one left open does: it loads once, and `next dev` rebuilds
 * nothing since the banner (no "Compiled in" line, printed per HMR update): nobody edits a file.
 * A dev server rebuilding on files the stack itself writes (.data, next-env.d.ts) would reload both.
 */
async function signInWithin(bannerAt: number, output: () => string) {
  const from = output().length;
  const link = /console +(\S+\/ops\/login) +\(password: (\S+)\)/.exec(output());
  check(link, "the banner has no console link with its password");
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  try {
    const page = await browser.newPage();
    const idle = await browser.newPage();
    const consoleOf = watchConsole(page);
    const loads = countLoads(page);
    const idleLoads = countLoads(idle);
    // A guard against a hang, not a speed check (the time is printed): on CI's two loaded cores a
    // cold dev server's first pages once took more than 10 s.
    const left = () => Math.max(1, bannerAt + 60_000 - Date.now());
    await page.goto(link[1]!, { timeout: left() });
    await page.fill("#name", "first hour", { timeout: left() });
    await page.fill("#password", link[2]!, { timeout: left() });
    await Promise.all([page.waitForURL((u) => u.pathname === "/ops", { timeout: left() }), page.click("button[type=submit]", { timeout: left() })]);
    await page.waitForSelector("#jobs", { timeout: left() });
    const signedInAfter = Date.now() - bannerAt;
    // Opened after the sign-in, so the time printed is the first tab's alone.
    await idle.goto(link[1]!);
    await page.goto(link[1]!.replace(/\/ops\/login$/, "/ops/jobs/heartbeat"), { waitUntil: "networkidle" });
    // Time for a reload loop to show, and for hydration to report.
    await page.waitForTimeout(3_000);
    const rebuilds = output().slice(from).split("\n").filter((l) => /Compiled in/.test(l));
    const seen = `(the tab that signed in: ${loads.count()} loads for 3 navigations; the idle sign-in tab: ${idleLoads.count()} loads for 1; "Compiled in" lines since the banner: ${rebuilds.length})`;
    check(loads.count() === 3 && idleLoads.count() === 1, `the console reloads itself ${seen}:\n${idleLoads.urls().concat(loads.urls()).slice(-10).join("\n")}`);
    check(rebuilds.length === 0, `next dev rebuilt with no file edited ${seen}:\n${rebuilds.slice(-5).join("\n")}`);
    const problems = consoleOf.problems();
    check(problems.length === 0, `the browser's console reported:\n${problems.join("\n")}`);
    return signedInAfter;
  } finally {
    await browser.close();
  }
}

/** Each document `page` loaded (a full reload is one), with the time and URL of each. */
function countLoads(page: Page): { count(): number; urls(): string[] } {
  const seen: string[] = [];
  page.on("load", () => seen.push(`${new Date().toISOString()} ${page.url()}`));
  return { count: () => seen.length, urls: () => [...seen] };
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

/** A README section's fenced blocks, as a reader copies them (the list's indentation dropped). */
function readmeSection(title: string) {
  const readme = readFileSync(path.join(repo, "README.md"), "utf8");
  const start = readme.indexOf(`## ${title}`);
  check(start >= 0, `the README has no "${title}" section`);
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], code: m[2]!.replace(/^ {3}/gm, "") }));
  return { section, blocks };
}

const write = (file: string, text: string) => {
  mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
  writeFileSync(path.join(repo, file), text);
};
const read = (file: string) => readFileSync(path.join(repo, file), "utf8");
/** Adds `line` after the file's last import, as "(and its import)" asks. */
const withImport = (text: string, line: string) => {
  const lines = text.split("\n");
  lines.splice(lines.findLastIndex((l) => l.startsWith("import ")) + 1, 0, line);
  return lines.join("\n");
};

/**
 * The README's "Add a job" as written: its job file, its migration, its line in the product's
 * index.ts and its schedule entry; then the commands it names, against the running stack.
 */
async function addAJob() {
  const { section, blocks } = readmeSection("Add a job");
  check(blocks.map((b) => b.lang).join(" ") === "ts sql ts", `README "Add a job" blocks: ${blocks.map((b) => b.lang).join(" ")}`);
  const jobFile = /`(products\/([\w-]+)\/jobs\/[\w-]+\.ts)`/.exec(section);
  const migration = /`supabase\/migrations\/<UTC yyyymmddhhmmss>_(\w+)\.sql`/.exec(section)?.[1];
  const entry = /`(\{ job: "[\w-]+",[^`]*\})`/.exec(section)?.[1];
  check(jobFile && migration && entry, "the README names no job file, migration or schedule entry");
  const product = jobFile![2]!;
  write(jobFile![1]!, blocks[0]!.code);
  const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
  write(`supabase/migrations/${stamp}_${migration}.sql`, blocks[1]!.code);
  const [importLine, listLine] = blocks[2]!.code.trimEnd().split("\n");
  const added = /, (\w+)\],$/.exec(listLine!.trim())?.[1];
  check(added, `the README's jobs line names no job: ${listLine}`);
  const index = `products/${product}/index.ts`;
  write(index, withImport(read(index), importLine!.replace(/\s*\/\/.*$/, "")).replace(/(\n {2}jobs: \[[^\]]*)\]/, `$1, ${added}]`));
  const schedules = `products/${product}/schedules.ts`;
  const text = read(schedules);
  const end = text.lastIndexOf("\n];");
  write(schedules, `${text.slice(0, end)}\n  ${entry},${text.slice(end)}`);

  const migrated = await pnpm(["-s", "db:migrate"]);
  check(migrated.code === 0 && migrated.out.includes(`1 migration(s) applied to database 127.0.0.1:${ports.PGLITE_PORT}/postgres`), `db:migrate: ${migrated.code}\n${migrated.out}`);
  const synced = await pnpm(["-s", "qstash:schedule"]);
  check(synced.code === 0 && synced.out.includes("send-order-emails"), `qstash:schedule: ${synced.code}\n${synced.out}`);
  const ran = await pnpm(["-s", "job:run", "send-order-emails"]);
  check(ran.code === 0 && /send-order-emails succeeded/.test(ran.out), `job:run send-order-emails: ${ran.code}\n${ran.out}`);
}

/**
 * The README's "Add a product" as written, with the name `notes` and the job of "Add a job" copied
 * in as its job: the folder, its index.ts, its line in config/products.ts; then its job runs, and
 * PRODUCTS=notes leaves every other product's job out.
 */
async function addAProduct() {
  const { blocks } = readmeSection("Add a product");
  check(blocks[0]?.lang === "ts" && blocks[0].code.includes("defineProduct"), "the README's \"Add a product\" shows no defineProduct value");
  const jobName = "notes-digest";
  const job = readmeSection("Add a job").blocks[0]!.code.replace('name: "send-order-emails"', `name: "${jobName}"`);
  write("products/notes/jobs/my-job.ts", job);
  write("products/notes/index.ts", blocks[0]!.code.replaceAll("<name>", "notes").replace("<Title>", "Notes").replace("<one line>", "Notes of the first hour"));
  const catalog = read("config/products.ts");
  write("config/products.ts", withImport(catalog, 'import notes from "@/products/notes";').replace(/(export const catalog = \[[^\]]*)\]/, "$1, notes]"));
  const ran = await pnpm(["-s", "job:run", jobName]);
  check(ran.code === 0 && new RegExp(`${jobName} succeeded`).test(ran.out), `job:run ${jobName}: ${ran.code}\n${ran.out}`);
  const alone = await pnpm(["-s", "job:run", "send-order-emails", "--dry-run"], { PRODUCTS: "notes" });
  check(alone.code === 2 && alone.out.includes(`Jobs: `) && alone.out.includes(jobName) && !alone.out.includes("process-expert-transfers"), `PRODUCTS=notes still knows other products' jobs: ${alone.code}\n${alone.out}`);
}

/**
 * The README's picture (docs/images/ops-jobs.png is copied from test-results/screenshots/ops-jobs.png):
 * the console of a stack as a new user has it after this hour, schedules synced, seeded runs.
 */
async function picture(banner: string) {
  const kept = await pnpm(["-s", "job:run", "keep-alive"]);
  check(kept.code === 0 && /keep-alive succeeded/.test(kept.out), `job:run keep-alive: ${kept.code}\n${kept.out}`);
  const link = /console +(\S+\/ops\/login) +\(password: (\S+)\)/.exec(banner);
  check(link, "the banner has no console link with its password");
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  try {
    // The server's HTML as it renders, without the dev client: what the picture shows is the page, and
    // the dev client's reloads after a restart (see signInWithin) are not this step's subject.
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 }, javaScriptEnabled: false });
    await page.goto(link[1]!);
    await page.fill("#name", "first hour");
    await page.fill("#password", link[2]!);
    await Promise.all([page.waitForURL((u) => u.pathname === "/ops"), page.click("button[type=submit]")]);
    const table = await page.textContent("#jobs");
    // A failed last run reads "failed <date>"; the 7-day column's "0 failed" is health.
    check(table && !/drift|missing in QStash|\bfailed \d{4}-/.test(table), `the console is not healthy:\n${table}`);
    mkdirSync(path.join(ROOT, "test-results/screenshots"), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, "test-results/screenshots/ops-jobs.png") });
  } finally {
    await browser.close();
  }
}

async function main() {
  // --working-tree: the files as they are now (committed or not), for trying a change before committing it.
  if (process.argv.includes("--working-tree")) {
    await timed("copy of the working tree", () => execFileSync("bash", ["-c", `mkdir -p '${repo}' && git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -xf - -C '${repo}'`], { cwd: ROOT }));
  } else await timed("clone", () => execFileSync("git", ["clone", "-q", ROOT, repo]));
  await timed("pnpm install", () => execFileSync("pnpm", ["install", "--frozen-lockfile", "--prefer-offline", "--reporter=silent"], { cwd: repo, env: env as NodeJS.ProcessEnv, stdio: "inherit" }));

  const first = startDev();
  await timed("pnpm dev: banner, cold", () => first.banner());
  const bannerAt = Date.now();
  const curl = /curl -H "Authorization: Bearer ([^"]+)" (\S+\/api\/diagnostics)/.exec(first.output());
  check(curl, "the banner has no diagnostics command");
  await timed("the banner's diagnostics command", async () => {
    const res = await fetch(curl[2]!, { headers: { authorization: `Bearer ${curl[1]}` } });
    check(res.status === 200, `diagnostics answered ${res.status}: ${await res.text()}`);
  });
  await timed("console sign-in in a browser, right after the banner", async () => {
    const ms = await signInWithin(bannerAt, first.output);
    console.log(`    signed in ${(ms / 1000).toFixed(1)} s after the banner; a job's page then, with a clean console`);
  });
  await timed("pnpm db:migrate finds the running stack", async () => {
    const r = await pnpm(["-s", "db:migrate"]);
    check(r.code === 0 && r.out.includes(`database 127.0.0.1:${ports.PGLITE_PORT}/postgres (from the running pnpm dev`) && /is up to date/.test(r.out), `db:migrate: ${r.code}\n${r.out}`);
  });
  await timed("a campaign created through its API (products/campaigns/README.md)", async () => {
    // The campaigns API takes its own key (CAMPAIGNS_API_KEY), which the banner prints; CRON_SECRET is refused.
    const key = /\/api\/campaigns {2}Authorization: Bearer (\S+)/.exec(first.output());
    check(key, "the banner has no key for the campaigns API");
    const res = await fetch(`http://127.0.0.1:${ports.PORT}/api/campaigns`, {
      method: "POST",
      headers: { authorization: `Bearer ${key[1]}`, "content-type": "application/json" },
      body: JSON.stringify({
        name: "welcome",
        zone: "Europe/Lisbon",
        nodes: [
          { id: "welcome_email", type: "email", config: { subject: "Welcome", text: "Hello" }, next: "pause", timeoutSeconds: 86400 },
          { id: "pause", type: "wait", config: { seconds: 86400 }, next: "nudge", timing: "immediate" },
          { id: "nudge", type: "notification", config: { workflowId: "campaign-nudge" }, timeoutSeconds: 86400 },
        ],
      }),
    });
    check(res.status === 201, `POST /api/campaigns answered ${res.status}: ${await res.text()}`);
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
  // The three steps below restart or stop next dev; a heartbeat tick (each minute's start) that
  // lands in that window is retried, but one that reaches the route as next dev stops leaves a run
  // that only its lapsed lease closes, as failed, which this run counts as a failure.
  await clearOfTheTick();
  await timed("README's \"Add a job\", followed literally, on the running stack", addAJob);
  await timed("README's \"Add a product\", followed literally, on the running stack", addAProduct);
  await timed("Ctrl-C", () => first.stop());
  first.quiet();
  for (const [name, port] of Object.entries(ports)) check(await portFree(port), `${name} ${port} still listening after Ctrl-C`);

  const before = await heartbeats().catch(() => 0);
  const second = startDev({ terminal: false });
  await timed("pnpm dev: banner, warm (restart)", () => second.banner());
  await timed("the next heartbeat after the restart", () => until(async () => (await heartbeats()) > before, 90_000, () => "no heartbeat ran within 90 s of the restart"));
  const dead = await json<unknown[]>(["qstash:dlq", "list"]);
  check(dead.length === 0, `dead letters: ${JSON.stringify(dead)}`);
  const stats = await json<{ rows: { job: string; failed: number }[] }>(["qstash:stats"]);
  const failed = stats.rows.filter((r) => r.failed > 0);
  check(failed.length === 0, `failed runs: ${JSON.stringify(failed)}`);
  await timed("keep-alive by hand, then the README's picture of the console", () => picture(second.output()));
  await timed("SIGINT without a terminal after the restart", () => second.stop());
  second.quiet();
  for (const [name, port] of Object.entries(ports)) check(await portFree(port), `${name} ${port} still listening after SIGINT`);

  const third = startDev({ terminal: false });
  await timed("pnpm dev: banner, warm, then SIGKILL", async () => {
    await third.banner();
    await third.kill();
  });
  // Nothing it started may outlive it: Next's server would keep the app port for good.
  await timed("nothing left listening after SIGKILL", () =>
    until(async () => (await Promise.all(Object.values(ports).map((p) => portFree(p)))).every(Boolean), 15_000, () => `still listening 15 s after SIGKILL: ${Object.entries(ports).map(([k, v]) => `${k} ${v}`).join(", ")}`),
  );
}

try {
  await main();
  console.log("\n| step | seconds |\n|---|---:|");
  for (const [step, ms] of timings) console.log(`| ${step} | ${(ms / 1000).toFixed(1)} |`);
} catch (err) {
  console.error(`first hour failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  for (const s of stacks) {
    if (s.exitCode !== null) continue;
    try {
      process.kill(-s.pid!, "SIGKILL"); // a stack without a terminal leads its own process group
    } catch {
      s.kill("SIGKILL");
    }
  }
  // What a failed run left behind: the stack's processes run from the clone.
  try {
    execFileSync("pkill", ["-KILL", "-f", repo]);
  } catch {
    /* nothing left */
  }
  await new Promise((r) => setTimeout(r, 1_000)); // what was killed stops writing into the clone
  rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}
