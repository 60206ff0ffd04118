import { DateTime } from "luxon";
import { escapeHtml, htmlFrame, money, type Email } from "@/lib/emails/layout";

export interface SalesSummary {
  orders: number;
  totals: { currency: string; total: number }[];
  top: { name: string; quantity: number; revenue: number; currency: string }[];
}

/** The admin's end-of-day email: the store day's sold orders, their total and the best sellers. */
export function salesSummaryEmail(s: SalesSummary & { date: string; zone: string }): Email {
  const day = DateTime.fromISO(s.date, { zone: s.zone }).setLocale("en-US").toFormat("cccc d LLLL yyyy");
  const total = s.totals.length ? s.totals.map((t) => money(Number(t.total), t.currency)).join(" + ") : money(0, "inr");
  const subject = `Sales for ${day}: ${s.orders} order${s.orders === 1 ? "" : "s"}, ${total}`;
  const head = `Orders placed on ${day} (${s.zone}) that are processing, shipped or delivered: ${s.orders}, totalling ${total}.`;
  const top = s.top.map((t, i) => `${i + 1}. ${t.name}: ${t.quantity} sold, ${money(Number(t.revenue), t.currency)}`);
  const parts = top.length ? ["Top products:", ...top] : ["No products sold."];
  return {
    subject,
    text: [head, "", ...parts].join("\n"),
    html: htmlFrame(subject, [escapeHtml(head), parts.map(escapeHtml).join("<br>")]),
  };
}
