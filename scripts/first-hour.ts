import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { portFree } from "../dev/stack";
import { signInWithin, picture } from "./first-hour/browser";
import { check, clearOfTheTick, dir, env, freePort, heartbeats, json, pnpm, ports, repo, ROOT, stacks, timed, timings, until } from "./first-hour/context";
import { startDev } from "./first-hour/dev";
import { addAJob, addAProduct } from "./first-hour/readme-steps";

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
