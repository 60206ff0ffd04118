import type { OrderView } from "../lib/order-email";
import { escapeHtml, htmlFrame, money, type Email } from "@/lib/emails/layout";

/** To the admins: an order was paid for stock that was no longer there. */
export function orderAttentionEmail(o: OrderView): Email {
  const subject = `Order ${o.order_number} is paid but short of stock`;
  const short = o.items.filter((i) => i.short > 0).map((i) => `${i.name} (${i.sku}): ${i.short} of ${i.quantity} not in stock`);
  const lines = [
    `${o.user.name || o.user.email} paid ${money(o.total, o.currency)} after the order's stock hold had expired, and others had bought the stock meanwhile.`,
    ...short,
    "Stock was not taken for the missing units. Restock and ship, or cancel the order and refund the customer.",
  ];
  return { subject, text: lines.join("\n"), html: htmlFrame(subject, lines.map(escapeHtml)) };
}
