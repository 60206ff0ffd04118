import type { AlertMessage } from "./channels";

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const message = (subject: string, lines: string[]): AlertMessage => ({
  subject: `[cronlayer] ${subject}`,
  text: lines.join("\n"),
  html: `<pre style="font-family:ui-monospace,monospace;white-space:pre-wrap">${escape(lines.join("\n"))}</pre>`,
});

export interface FailureNote {
  job: string;
  /** What failed this time: "dead letter after 3 retries: HTTP 500 ...", "missed the 06:00Z slot". */
  what: string;
  console: string;
}

/** The first alert of an incident, or a later one past the cooldown that counts what came meanwhile. */
export function failureMessage(n: FailureNote, incident: { alerts: number; quiet_since_last: number; opened_at: string }): AlertMessage {
  const first = incident.alerts === 1;
  const subject = first ? `${n.job} is failing` : `${n.job} is still failing (${incident.quiet_since_last + 1} failures since the last alert)`;
  return message(subject, [
    `${n.job}: ${n.what}`,
    first ? "Further failures of this job are counted, not sent, until the cooldown passes; its next success sends one recovery notice." : `Failing since ${incident.opened_at}.`,
    `Console: ${n.console}`,
  ]);
}

export function recoveryMessage(job: string, r: { opened_at: string; failures: number; alerts: number }, console: string): AlertMessage {
  return message(`${job} recovered`, [
    `${job} succeeded again. It had been failing since ${r.opened_at}: ${r.failures} failure(s), ${r.alerts} alert(s).`,
    `Console: ${console}`,
  ]);
}

export function pausedMessage(n: FailureNote): AlertMessage {
  return message(`${n.job} is paused after failing`, [`${n.job}: ${n.what}`, "Its next success after the resume sends one recovery notice.", `Console: ${n.console}`]);
}
