import { Cron } from "croner";
import cronstrue from "cronstrue";
import { parseCron } from "../jobs/schedules";

export interface ReadCron {
  expression: string;
  zone: string;
  words: string;
  /** The next runs after `from`; empty when croner cannot read the cron. */
  next: Date[];
}

/** A QStash cron (optional `CRON_TZ=` prefix) in words, with its next runs; never throws. */
export function readCron(cron: string, from: Date, n = 3): ReadCron {
  try {
    const { expression, timezone } = parseCron(cron, "cron");
    const next = new Cron(expression, { mode: "5-part", timezone, paused: true }).nextRuns(n, from);
    return { expression, zone: timezone, words: inWords(expression), next };
  } catch {
    return { expression: cron, zone: "?", words: "(cannot read this cron)", next: [] };
  }
}

export function inWords(expression: string): string {
  try {
    return cronstrue.toString(expression, { use24HourTimeFormat: true });
  } catch {
    return expression;
  }
}
