import type { Env } from "../env";
import type { Registry } from "../jobs/registry";
import { appliesIn, type Schedule } from "../jobs/schedules";
import { utcCronsFor } from "../time/utc-crons";

/** What QStash should hold for one registry entry: the one place that decides ids and URLs. */
export interface ExpectedSchedule {
  scheduleId: string;
  job: string;
  destination: string;
  /** Five UTC fields: a zoned entry becomes one or more of these (see `zoned`). */
  cron: string;
  /** For a `CRON_TZ=` entry: the entry, which part of its UTC crons this is, and when they must be re-synced. */
  zoned?: { cron: string; part: number; parts: number; resyncAt: Date | null };
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

/** Whether the entry reads its cron in a zone: those go to QStash as UTC crons, re-synced before each offset change. */
export const isZoned = (s: Pick<Schedule, "cron">) => s.cron.startsWith("CRON_TZ=");

/**
 * A zoned entry's crons at `now`: ids `<prefix>-<job>`, `<prefix>-<job>-2`... Nothing with
 * `CRON_TZ=` reaches QStash, whose handling of a missing or repeated hour is not documented.
 */
export function expectedSchedules(registry: Registry, env: Pick<Env, "appUrl" | "schedulePrefix" | "mode">, now = new Date()): ExpectedSchedule[] {
  return registry.schedules
    .filter((s) => s.via === "qstash" && appliesIn(s, env.mode))
    .flatMap((s) => {
      const base = {
        job: s.job,
        destination: `${env.appUrl}/api/cron/${s.job}`,
        retries: s.retries,
        timeoutSeconds: Math.ceil(registry.settingsOf(s.job).timeoutMs / 1000),
        body: "{}",
      };
      const id = scheduleIdOf(env.schedulePrefix, s.job);
      if (!isZoned(s)) return [{ ...base, scheduleId: id, cron: s.cron }];
      const { crons, resyncAt } = utcCronsFor(s.expression, s.timezone, now);
      return crons.map((cron, i) => ({ ...base, scheduleId: i ? `${id}-${i + 1}` : id, cron, zoned: { cron: s.cron, part: i + 1, parts: crons.length, resyncAt } }));
    });
}
