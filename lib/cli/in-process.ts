import type { Env } from "../env";
import { runJob, type RunDeps } from "../jobs/run";
import { parseDuration } from "../time/duration";
import { withInlineFanOut } from "../qstash/inline";
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
 * same deps (ledger, effects, providers, outbox), as a one-time delivery would be. No item starts
 * after `timeoutMs`, the planner's own timeout.
 */
export function runInProcess<T>(deps: RunDeps, timeoutMs: number, run: () => Promise<T>): Promise<T> {
  const item = (job: string, payload: unknown, attempt: number) => runJob({ job, payload, trigger: "cli", oneTime: true, attempt }, deps);
  return withInlineFanOut({ run: item, signal: AbortSignal.timeout(timeoutMs) }, run);
}

/**
 * `--timeout <duration>`: this run's timeout instead of the job's. In-process, a planner's run lasts
 * as long as its sends (10,000 emails at 2 a second: 84 minutes), longer than the few minutes a
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
