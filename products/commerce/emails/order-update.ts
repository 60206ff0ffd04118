import type { OrderEmailStatus } from "../lib/order-email";
import { escapeHtml, htmlFrame, money, type Email } from "@/lib/emails/layout";

export interface OrderUpdate {
  status: OrderEmailStatus;
  name: string;
  /** The human order number (ORD-001001). */
  orderNumber: string;
  total: number;
  currency: string;
  trackingNumber: string | null;
  items: { name: string; quantity: number; unit_price: number }[];
  /** On a confirmation only, e.g. "Friday, 8 January 2027"; none when the order is short of stock. */
  estimatedDelivery?: string;
  /** The order was paid without all of its stock: the confirmation promises no date. */
  needsAttention?: boolean;
}

const HEADLINES: Record<OrderEmailStatus, (ref: string) => string> = {
  placed: (ref) => `We have received your order ${ref}`,
  confirmed: (ref) => `Your order ${ref} is confirmed`,
  shipped: (ref) => `Your order ${ref} has shipped`,
  delivered: (ref) => `Your order ${ref} has been delivered`,
  cancelled: (ref) => `Your order ${ref} has been cancelled`,
  return_approved: (ref) => `Your return for order ${ref} is approved`,
};

const LINES: Record<OrderEmailStatus, (o: OrderUpdate) => string> = {
  placed: () => "Thank you. We will confirm it as soon as your payment is through.",
  confirmed: (o) =>
    o.needsAttention
      ? "We have received your payment. Part of your order is not in stock right now: we will write to you with a delivery date."
      : "We have received your payment and are preparing your order.",
  shipped: (o) => `It is on its way. Tracking number: ${o.trackingNumber ?? "(not yet available)"}.`,
  delivered: () => "We hope you love it. Thank you for shopping with us.",
  cancelled: () => "If you paid for it, the refund is on its way to your original payment method.",
  return_approved: () => "Please send the item back in its original packaging; your refund follows once it arrives.",
};

/** The email a customer gets when their order changes; the in-app notification uses its subject and first line. */
export function orderUpdateEmail(o: OrderUpdate): Email & { line: string } {
  const subject = HEADLINES[o.status](o.orderNumber);
  const line = LINES[o.status](o);
  const items = o.items.map((i) => `${i.quantity} x ${i.name} (${money(i.unit_price, o.currency)})`);
  const total = `Total: ${money(o.total, o.currency)}`;
  const eta = o.status === "confirmed" && o.estimatedDelivery && !o.needsAttention ? [`Estimated delivery: ${o.estimatedDelivery}`] : [];
  return {
    subject,
    line,
    text: [`Hi ${o.name || "there"},`, "", line, "", ...items, total, ...eta].join("\n"),
    html: htmlFrame(subject, [`Hi ${escapeHtml(o.name || "there")},`, escapeHtml(line), items.map(escapeHtml).join("<br>"), escapeHtml(total), ...eta.map(escapeHtml)]),
  };
}
