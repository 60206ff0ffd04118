import { escapeHtml, htmlFrame, localTime, type Email } from "@/lib/emails/layout";

export interface AppointmentReminder {
  kind: "24h" | "1h";
  recipient: "client" | "expert";
  name: string;
  /** The other person: the expert for a client, the client for an expert. */
  withName: string;
  startsAt: string | Date;
  endsAt: string | Date;
  /** The recipient's IANA zone: the time is shown as they live it. */
  timeZone: string;
}

export function appointmentReminderEmail(r: AppointmentReminder): Email {
  const when = localTime(r.startsAt, r.timeZone);
  const minutes = Math.round((new Date(r.endsAt).getTime() - new Date(r.startsAt).getTime()) / 60_000);
  const who = r.recipient === "client" ? r.withName : `your client ${r.withName}`;
  const subject = r.kind === "1h" ? `Starting soon: your appointment with ${r.withName} at ${when.short}` : `Reminder: your appointment with ${r.withName} on ${when.short}`;
  const lead = r.kind === "1h" ? "Your appointment starts within the hour." : "This is a reminder of your upcoming appointment.";
  const detail = `You meet ${who} on ${when.long}, for ${minutes} minutes.`;
  const close = r.recipient === "client" ? "If you cannot make it, please reschedule or cancel from your bookings page." : "Your calendar has the details.";
  return {
    subject,
    text: [`Hi ${r.name},`, "", lead, detail, "", close].join("\n"),
    html: htmlFrame(subject, [`Hi ${escapeHtml(r.name)},`, escapeHtml(lead), escapeHtml(detail), escapeHtml(close)]),
  };
}
