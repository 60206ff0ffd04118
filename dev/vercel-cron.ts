import { readFileSync } from "node:fs";
import { Cron } from "croner";

/**
 * Local stand-in for Vercel Cron: reads `crons` from vercel.json and sends what Vercel sends on
 * each tick. `next dev` and `vercel dev` never run Vercel crons, so without this the keep-alive
 * route would go untested locally.
 */
export interface VercelCron {
  path: string;
  schedule: string;
}

export interface VercelCronTickerOptions {
  appUrl: string;
  /** Vercel sends `Authorization: Bearer <CRON_SECRET>` only when the env var is set. */
  cronSecret?: string;
  crons: VercelCron[];
  log?: (line: string) => void;
  fetch?: typeof fetch;
}

export interface VercelCronTicker {
  stop(): void;
  /** One invocation now, exactly as a scheduled tick sends it; the response is the caller's. */
  fire(path: string): Promise<Response>;
  /** The scheduled jobs, for printing or checking next run times. */
  jobs: readonly (VercelCron & { cron: Cron })[];
}

// Vercel Cron is UTC only, five fields, minute resolution.
const CRON_OPTIONS = { timezone: "UTC", mode: "5-part" } as const;

export function startVercelCronTicker(opts: VercelCronTickerOptions): VercelCronTicker {
  const log = opts.log ?? ((line: string) => console.log(line));
  const send = opts.fetch ?? fetch;
  const base = opts.appUrl.replace(/\/+$/, "");

  function fire(path: string): Promise<Response> {
    if (!path.startsWith("/")) return Promise.reject(new Error(`vercel-cron: path must start with "/", got "${path}"`));
    const headers: Record<string, string> = { "user-agent": "vercel-cron/1.0" };
    if (opts.cronSecret) headers.authorization = `Bearer ${opts.cronSecret}`;
    // Vercel neither retries nor follows redirects: a 3xx is the answer.
    return send(`${base}${path}`, { method: "GET", headers, redirect: "manual" });
  }

  async function tick(path: string) {
    const started = Date.now();
    try {
      const res = await fire(path);
      // Drained rather than cancelled: cancel() never settles under msw's fetch interceptor.
      await res.arrayBuffer().catch(() => undefined);
      log(`vercel-cron GET ${path} -> ${res.status} in ${Date.now() - started} ms`);
    } catch (err) {
      log(`vercel-cron GET ${path} -> failed: ${(err as Error).message} (Vercel does not retry; next tick as scheduled)`);
    }
  }

  const jobs = opts.crons.map((c, i) => {
    const cron = newCron(c, `crons[${i}]`, () => tick(c.path));
    return { ...c, cron };
  });
  for (const j of jobs) log(`vercel-cron ${j.path} "${j.schedule}" (UTC) next ${j.cron.nextRun()?.toISOString() ?? "never"}`);

  return {
    jobs,
    fire,
    stop() {
      for (const j of jobs) j.cron.stop();
    },
  };
}

function newCron(c: VercelCron, where: string, run?: () => Promise<void>): Cron {
  try {
    return run ? new Cron(c.schedule, CRON_OPTIONS, run) : new Cron(c.schedule, { ...CRON_OPTIONS, paused: true });
  } catch (err) {
    throw new Error(
      `${where}.schedule "${c.schedule}" is not a cron expression Vercel accepts (${(err as Error).message}): ` +
        `use five fields, minute hour day-of-month month day-of-week, in UTC, e.g. "0 6 * * *"`,
    );
  }
}

/** The `crons` of a vercel.json, checked; a file without `crons` has none. */
export function readVercelCrons(file = "vercel.json"): VercelCron[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`${file}: cannot read it (${(err as Error).message})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new Error(`${file}: expected a JSON object at the top level`);
  const crons = (doc as { crons?: unknown }).crons;
  if (crons === undefined) return [];
  if (!Array.isArray(crons)) throw new Error(`${file}: "crons" must be an array of { "path", "schedule" }`);

  return crons.map((entry: unknown, i) => {
    const where = `${file}: crons[${i}]`;
    const { path, schedule } = (typeof entry === "object" && entry !== null ? entry : {}) as Record<string, unknown>;
    if (typeof path !== "string" || !path.startsWith("/")) {
      throw new Error(`${where}.path must be a string starting with "/", e.g. "/api/cron/keep-alive"`);
    }
    if (typeof schedule !== "string") throw new Error(`${where}.schedule must be a cron string, e.g. "0 6 * * *"`);
    if (schedule.trim().split(/\s+/).length !== 5) {
      throw new Error(`${where}.schedule "${schedule}" must have five fields (minute hour day-of-month month day-of-week), e.g. "0 6 * * *"`);
    }
    newCron({ path, schedule }, where).stop();
    return { path, schedule };
  });
}
