import type { Env } from "../env";
import type { Registry } from "../jobs/registry";
import { appliesIn } from "../jobs/schedules";

/** What QStash should hold for one registry entry: the one place that decides ids and URLs. */
export interface ExpectedSchedule {
  scheduleId: string;
  job: string;
  destination: string;
  /** As QStash stores it, `CRON_TZ=` prefix included. */
  cron: string;
  retries: number;
  /** Per-attempt response timeout in seconds, from the job's effective timeout. */
  timeoutSeconds: number;
  body: string;
}

export const scheduleIdOf = (prefix: string, job: string) => `${prefix}-${job}`;
export const isOurs = (prefix: string, scheduleId: string) => scheduleId.startsWith(`${prefix}-`);
/**
 * Whether a destination is this deployment's: APP_URL itself or a path below it. A prefix alone
 * cannot tell us apart from an environment whose prefix extends ours (`prod` and `prod-eu`), and a
 * bare startsWith would take `https://a.example.com/app-eu` for `https://a.example.com/app`.
 */
export const isUnder = (url: string, base: string) => url === base || url.startsWith(`${base}/`);

export function expectedSchedules(registry: Registry, env: Pick<Env, "appUrl" | "schedulePrefix" | "mode">): ExpectedSchedule[] {
  return registry.schedules
    .filter((s) => s.via === "qstash" && appliesIn(s, env.mode))
    .map((s) => ({
      scheduleId: scheduleIdOf(env.schedulePrefix, s.job),
      job: s.job,
      destination: `${env.appUrl}/api/cron/${s.job}`,
      cron: s.cron,
      retries: s.retries,
      timeoutSeconds: Math.ceil(registry.settingsOf(s.job).timeoutMs / 1000),
      body: "{}",
    }));
}
