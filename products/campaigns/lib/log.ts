import { EXECUTE_ATTEMPTS, type NodeRun } from "./types";

/**
 * What every node log line carries, so one line answers which node of which campaign, for whom,
 * and how many of its attempts it took: `attempts` counts the executions that started (the run's
 * `attempts`, as the API shows it).
 */
export function nodeLogFields(run: NodeRun) {
  return {
    campaignId: run.campaignId,
    nodeId: run.nodeId,
    productUserId: run.productUserId,
    attempts: run.attempts,
    maxAttempts: EXECUTE_ATTEMPTS,
  };
}

/** Milliseconds between two instants of the run (its own clock: QStash's in tests), or null. */
export function between(from: string | null, to: string | Date | null): number | null {
  if (!from || !to) return null;
  return new Date(to).getTime() - new Date(from).getTime();
}
