import type { Env } from "../env";
import { runJob, type RunDeps } from "../jobs/run";
import { parseDuration } from "../time/duration";
import { inlinePublisher, withInlineFanOut } from "../qstash/inline";
import { UsageError } from "./errors";

export type FanOutMode = "qstash" | "inline";
const MODES: readonly FanOutMode[] = ["qstash", "inline"];

/**
 * Where the fan-outs of a `job:run` go: `--in-process` or CRONLAYER_FANOUT=inline run them in
 * this process; otherwise (and always in the app's routes) they are published to QStash.
 */
export function fanOutMode(env: Pick<Env, "source">, inProcess: boolean | undefined): FanOutMode {
  if (inProcess) return "inline";
  const v = env.source.CRONLAYER_FANOUT?.trim().toLowerCase();
  if (v === undefined) return "qstash";
  if (!MODES.includes(v as FanOutMode)) throw new UsageError(`CRONLAYER_FANOUT must be ${MODES.join(" or ")}, got "${env.source.CRONLAYER_FANOUT}": inline runs fan-outs in this process, qstash (the default) publishes them`);
  return v as FanOutMode;
}

/**
 * `run` with its fan-outs in this process: each item is a run of its job through runJob with the
 * same deps (ledger, effects, providers, outbox), its body parsed with the job's schema as the
 * route parses a delivery's. What a run asks to run later (runAgainAt) is run here too, while the
 * run's `timeoutMs` lasts; no item starts after it.
 */
export function runInProcess<T>(deps: RunDeps, timeoutMs: number, run: (deps: RunDeps) => Promise<T>): Promise<T> {
  const here: RunDeps = { ...deps, qstash: inlinePublisher };
  const item = (job: string, body: unknown, attempt: number) => {
    const def = here.registry.get(job);
    if (!def) throw new Error(`unknown job "${job}"`);
    return runJob({ job, payload: def.payload.parse(body), trigger: "cli", oneTime: true, attempt }, here);
  };
  return withInlineFanOut({ run: item, timeoutMs }, () => run(here));
}

/**
 * `--timeout <duration>`: this run's timeout instead of the job's. In-process, a planner's run lasts
 * as long as its sends (10,000 emails at 2 a second: 83 minutes), longer than the few minutes a
 * planner that only publishes is given.
 */
export function timeoutOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms < 1000 || !/[a-z]$/i.test(text.trim())) throw new UsageError(`--timeout must be a duration of at least 1s, such as 30m or 2h, got "${text}"`);
  return ms;
}

/** The deps with `job`'s timeout set to `timeoutMs` (none given: as they are). */
export function withTimeout(deps: RunDeps, job: string, timeoutMs: number | undefined): RunDeps {
  if (timeoutMs === undefined) return deps;
  const { registry } = deps;
  return { ...deps, registry: { ...registry, settingsOf: (name) => (name === job ? { ...registry.settingsOf(name), timeoutMs } : registry.settingsOf(name)) } };
}
