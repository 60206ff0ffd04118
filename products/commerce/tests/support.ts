import { randomUUID } from "node:crypto";
import { razorpayPayments, RAZORPAY_ENV } from "../../../tests/mocks/razorpay";
import { resendEmails } from "../../../tests/mocks/resend";
import { server } from "../../../tests/mocks/server";
import { slackWebhook } from "../../../tests/mocks/slack";
import { sql } from "../../../tests/support/app";
import { VENDOR_ENV } from "../../../tests/support/vendors";

export const WEBHOOK_SECRET = "whsec_commerce_test_0123456789";
export const COURIER_SECRET = "courier_commerce_test_0123456789";
export const SHOP_KEY = "shop_commerce_test_0123456789";
/** Every vendor the shop uses, configured and pointed at the msw handlers. */
export const COMMERCE_ENV = {
  ...VENDOR_ENV,
  ...RAZORPAY_ENV,
  RAZORPAY_WEBHOOK_SECRET: WEBHOOK_SECRET,
  COURIER_WEBHOOK_SECRET: COURIER_SECRET,
  COMMERCE_API_KEY: SHOP_KEY,
  EMAIL_FROM: "Shop <shop@mail.example.test>",
};

type Opts<F extends (...a: never[]) => unknown> = Parameters<F>[0];

/** Installs the shop's vendors for this test and returns what each one received. */
export function shopVendors(o: { razorpay?: Opts<typeof razorpayPayments>; resend?: Opts<typeof resendEmails>; slack?: Opts<typeof slackWebhook> } = {}) {
  const razorpay = razorpayPayments(o.razorpay);
  const resend = resendEmails(o.resend);
  const slack = slackWebhook(o.slack);
  server.use(...razorpay.handlers, ...resend.handlers, ...slack.handlers);
  return { razorpay, resend: resend.calls, slack: slack.calls };
}

const short = () => randomUUID().slice(0, 8);

export async function insertUser(o: { verified?: boolean; createdAt?: Date; name?: string } = {}): Promise<{ id: string; email: string; name: string }> {
  const tag = short();
  const [u] = await sql()`
    insert into commerce_users (email, name, verified, created_at)
    values (${`buyer-${tag}@example.test`}, ${o.name ?? `Buyer ${tag}`}, ${o.verified ?? true}, ${o.createdAt ?? new Date()})
    returning id, email, name`;
  return u as { id: string; email: string; name: string };
}

export async function insertProduct(o: { stock?: number; threshold?: number; price?: number; name?: string } = {}): Promise<{ id: string; sku: string; name: string }> {
  const tag = short();
  const [p] = await sql()`
    insert into commerce_products (sku, name, price, stock, low_stock_threshold)
    values (${`SKU-${tag}`}, ${o.name ?? `Ring ${tag}`}, ${o.price ?? 250_000}, ${o.stock ?? 50}, ${o.threshold ?? 5})
    returning id, sku, name`;
  return p as { id: string; sku: string; name: string };
}

export const setStock = (product: string, stock: number) => sql()`update commerce_products set stock = ${stock} where id = ${product}`;
export const stockOf = async (product: string) => (await sql()<{ stock: number }[]>`select stock from commerce_products where id = ${product}`)[0]!.stock;

/** An order of `items` (product, quantity) at each product's price, held by inventory locks until `lockedUntil`. */
export async function insertOrder(o: {
  user: string;
  items: { product: string; quantity: number; price?: number }[];
  status?: string;
  createdAt?: Date;
  lockedUntil?: Date;
  currency?: string;
}): Promise<string> {
  const total = o.items.reduce((s, i) => s + i.quantity * (i.price ?? 250_000), 0);
  const [row] = await sql()`
    insert into commerce_orders (user_id, status, total, currency, created_at)
    values (${o.user}, ${o.status ?? "pending"}, ${total}, ${o.currency ?? "inr"}, ${o.createdAt ?? new Date()})
    returning id`;
  const id = row!.id as string;
  for (const i of o.items) {
    await sql()`insert into commerce_order_items (order_id, product_id, quantity, unit_price) values (${id}, ${i.product}, ${i.quantity}, ${i.price ?? 250_000})`;
    if (o.lockedUntil) await sql()`insert into commerce_inventory_locks (product_id, order_id, quantity, expires_at) values (${i.product}, ${id}, ${i.quantity}, ${o.lockedUntil})`;
  }
  return id;
}

/** A Razorpay payment attempt of an order: `pay_<random>` as its transaction id. */
export async function insertPayment(o: { order: string; createdAt: Date; amount?: number; status?: string }): Promise<{ id: string; transactionId: string }> {
  const transactionId = `pay_${randomUUID().replace(/-/g, "").slice(0, 14)}`;
  const [p] = await sql()`
    insert into commerce_payments (order_id, transaction_id, amount, status, created_at)
    values (${o.order}, ${transactionId}, ${o.amount ?? 250_000}, ${o.status ?? "pending"}, ${o.createdAt})
    returning id`;
  return { id: p!.id as string, transactionId };
}

export async function orderRow(id: string) {
  const [o] = await sql()<{ status: string; confirmed_at: Date | null; order_number: string; needs_attention_at: Date | null; attention_reason: string | null }[]>`
    select status, confirmed_at, order_number, needs_attention_at, attention_reason from commerce_orders where id = ${id}`;
  return o!;
}

export const locksOf = async (order: string) => (await sql()<{ n: number }[]>`select count(*)::int as n from commerce_inventory_locks where order_id = ${order}`)[0]!.n;
export const minutes = (n: number) => n * 60_000;
