import type { Env } from "../env";
import type { DesiredSchedule } from "./desired";
import { destinationProblem, isLocalQStash } from "./destinations";

/**
 * Why these schedules must not be sent to this QStash, before a single request is made: cloud
 * QStash cannot deliver to this machine or a private network, and must deliver over https.
 */
export function refusals(env: Pick<Env, "appUrl" | "qstash">, desired: readonly DesiredSchedule[]): string[] {
  if (isLocalQStash(env.qstash.url)) return [];
  const app = destinationProblem(env.qstash.url, `${env.appUrl}/`);
  if (app) return [`refusing to schedule against cloud QStash: APP_URL ${app}`];
  const problems = new Set<string>();
  for (const d of desired) {
    for (const url of [d.destination, d.failureCallback]) {
      const p = destinationProblem(env.qstash.url, url);
      if (p) problems.add(`refusing ${d.scheduleId}: ${p}`);
    }
  }
  return [...problems];
}
