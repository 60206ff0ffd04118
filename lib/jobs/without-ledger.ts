import { describeError } from "../errors";
import { createProviders } from "../providers";
import { providersWithSignal } from "../providers/bind";
import type { JobDefinition } from "./define";
import type { RunDeps } from "./run-types";

/**
 * The run could not be opened (the database is down). A job that declares `withoutLedger` still
 * gets to do what needs no database (the heartbeat tells someone), bounded by its timeout; the
 * delivery fails all the same, so the platform shows it and retries.
 */
export async function runWithoutLedger(job: JobDefinition, deps: RunDeps, error: unknown, timeoutMs: number): Promise<void> {
  if (!job.withoutLedger) return;
  const log = deps.log.child({ job: job.name, ledger: "unavailable" });
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    await job.withoutLedger({
      error,
      redis: deps.redis,
      env: deps.env,
      log,
      providers: providersWithSignal(deps.providers ?? createProviders(deps.env, deps.db), signal),
      now: (deps.clock ?? (() => new Date()))(),
      signal,
    });
    log.warn("job.run.without_ledger", { error: describeError(error) });
  } catch (err) {
    log.error("job.run.without_ledger_failed", { error: describeError(err), ledgerError: describeError(error) });
  }
}
