import { escapeHtml, htmlFrame, localTime, money, type Email } from "@/lib/emails/layout";

export interface PaymentReminder {
  name: string;
  expertName: string;
  startsAt: string | Date;
  paymentDueAt: string | Date;
  timeZone: string;
  /** Minor units, when known. */
  amount: number | null;
  currency: string;
  /** 1-based, and how many there will be at most. */
  seq: number;
  max: number;
}

export function paymentReminderEmail(r: PaymentReminder): Email {
  const due = localTime(r.paymentDueAt, r.timeZone);
  const when = localTime(r.startsAt, r.timeZone);
  const amount = r.amount ? ` of ${money(r.amount, r.currency)}` : "";
  const subject = r.seq === r.max ? `Last reminder: pay by ${due.short} to keep your booking` : `Please complete your payment by ${due.short}`;
  const lines = [
    `Your booking with ${r.expertName} on ${when.long} is waiting for its payment${amount}.`,
    `Please pay by ${due.long}; after that the slot is released to other clients.`,
  ];
  return {
    subject,
    text: [`Hi ${r.name},`, "", ...lines].join("\n"),
    html: htmlFrame(subject, [`Hi ${escapeHtml(r.name)},`, ...lines.map(escapeHtml)]),
  };
}
