import { escapeHtml, htmlFrame, type Email } from "@/lib/emails/layout";

export function calendarReconnectEmail(p: { name: string }): Email {
  const subject = "Reconnect your Google Calendar";
  const lines = [
    "We can no longer reach your Google Calendar: access was revoked or has expired.",
    "Until you reconnect it, new bookings will not appear in your calendar and your busy times are not checked. Reconnect it from your settings page.",
  ];
  return {
    subject,
    text: [`Hi ${p.name},`, "", ...lines].join("\n"),
    html: htmlFrame(subject, [`Hi ${escapeHtml(p.name)},`, ...lines.map(escapeHtml)]),
  };
}
