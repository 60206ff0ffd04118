import { escapeHtml, htmlFrame, type Email } from "./layout";
import { stamp } from "./watchdog-alert";

/** The heartbeat's alert when the database does not answer: what failed, and what still works. */
export function databaseDownAlert(at: Date, error: string, checks: string[]): Email {
  const subject = "[cronlayer] keep-alive: the database is down";
  const lines = [
    `At ${stamp(at)} keep-alive could not open its run: ${error}`,
    "No job can run or be recorded until the database answers again; QStash keeps retrying their deliveries.",
    ...checks,
    "Check GET /api/diagnostics?component=database with the Bearer secret, and the database provider's status page.",
  ];
  return { subject, text: lines.join("\n\n"), html: htmlFrame(subject, lines.map(escapeHtml)) };
}
