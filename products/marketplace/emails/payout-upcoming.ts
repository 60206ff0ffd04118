import { DateTime } from "luxon";
import { escapeHtml, htmlFrame, money, type Email } from "@/lib/emails/layout";

export interface PayoutUpcoming {
  name: string;
  amount: number;
  currency: string;
  /** yyyy-mm-dd: a bank day, not an instant. */
  arrivalDate: string;
}

export function payoutUpcomingEmail(p: PayoutUpcoming): Email {
  const day = DateTime.fromISO(p.arrivalDate, { zone: "UTC" }).setLocale("en-US").toFormat("cccc d LLLL yyyy");
  const amount = money(p.amount, p.currency);
  const subject = `Your payout of ${amount} arrives ${day}`;
  const line = `A payout of ${amount} is on its way to your bank account and is expected to arrive on ${day}.`;
  return {
    subject,
    text: [`Hi ${p.name},`, "", line].join("\n"),
    html: htmlFrame(subject, [`Hi ${escapeHtml(p.name)},`, escapeHtml(line)]),
  };
}
