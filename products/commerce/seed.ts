import type postgres from "postgres";

const DOMAIN = "seed.cronlayer.test";
const H = 3_600_000;
const D = 24 * H;

/**
 * The jewellery shop: products (two at or below their threshold), a payment pending 15 minutes
 * that Razorpay's local stand-in reports captured and one it reports failed (recorded in
 * provider_outbox, which the stand-in reads), an expired cart hold, today's sold orders, old read
 * notifications, spent reset tokens and an abandoned unverified account (products/commerce/README.md).
 */
export async function seed(tx: postgres.TransactionSql, now: Date): Promise<string[]> {
  const t = (ms: number) => new Date(now.getTime() + ms);

  const users = await tx`select id from commerce_users where email like ${"%@" + DOMAIN}`;
  const payments = await tx`select p.id from commerce_payments p join commerce_orders o on o.id = p.order_id where o.user_id = any(${users.map((u) => u.id as string)}::uuid[])`;
  await tx`delete from effects where subject = any(${payments.map((p) => p.id as string)}::text[])`;
  await tx`delete from commerce_orders where user_id = any(${users.map((u) => u.id as string)}::uuid[])`;
  await tx`delete from commerce_users where email like ${"%@" + DOMAIN}`;
  await tx`delete from commerce_products where sku like 'SEED-%'`;
  const [asha, rohan, ghost] = (await tx`insert into commerce_users ${tx([
    { email: `asha@${DOMAIN}`, name: "Asha Iyer", verified: true, created_at: t(-90 * D) },
    { email: `rohan@${DOMAIN}`, name: "Rohan Mehta", verified: true, created_at: t(-60 * D) },
    { email: `ghost@${DOMAIN}`, name: "", verified: false, created_at: t(-40 * D) },
  ])} returning id`).map((r) => r.id as string) as [string, string, string];
  const [ruby, chain, pearl, anklet] = (await tx`insert into commerce_products ${tx([
    { sku: "SEED-RUBY-RING", name: "Ruby ring", price: 4_500_000, stock: 3 },
    { sku: "SEED-GOLD-CHAIN", name: "Gold chain", price: 8_200_000, stock: 12 },
    { sku: "SEED-PEARL-EAR", name: "Pearl earrings", price: 1_900_000, stock: 0 },
    { sku: "SEED-SILVER-ANKLET", name: "Silver anklet", price: 350_000, stock: 30 },
  ])} returning id`).map((r) => r.id as string) as [string, string, string, string];
  const order = async (user: string, product: string, price: number, status: string, createdAgo: number, payment?: { id: string; status: string }) => {
    const [o] = await tx`insert into commerce_orders (user_id, status, total, created_at) values (${user}, ${status}, ${price}, ${t(-createdAgo)}) returning id`;
    const id = o!.id as string;
    await tx`insert into commerce_order_items (order_id, product_id, quantity, unit_price) values (${id}, ${product}, 1, ${price})`;
    if (status === "pending") await tx`insert into commerce_inventory_locks (product_id, order_id, user_id, quantity, expires_at) values (${product}, ${id}, ${user}, 1, ${t(20 * 60_000)})`;
    if (payment) {
      await tx`insert into commerce_payments (order_id, transaction_id, amount, status, created_at) values (${id}, ${payment.id}, ${price}, 'pending', ${t(-createdAgo)})`;
      await tx`select provider_outbox_record('razorpay', ${`payment:${payment.id}`}, ${tx.json({ type: "payment", id: payment.id, status: payment.status, amount: price })})`;
    }
  };
  await order(asha, chain, 8_200_000, "pending", 15 * 60_000, { id: "pay_SeedCaptured01", status: "captured" });
  await order(rohan, ruby, 4_500_000, "pending", 30 * 60_000, { id: "pay_SeedFailed0001", status: "failed" });
  await order(asha, pearl, 1_900_000, "processing", 2 * H);
  await order(rohan, anklet, 350_000, "shipped", 3 * H);
  await tx`insert into commerce_inventory_locks (product_id, user_id, quantity, expires_at) values (${anklet}, ${rohan}, 2, ${t(-10 * 60_000)})`;
  await tx`insert into commerce_notifications (user_id, kind, title, body, read_at, created_at) values
    (${asha}, 'promo', 'Diwali collection', 'New pieces are in.', ${t(-40 * D)}, ${t(-41 * D)}),
    (${asha}, 'promo', 'Gift wrapping', 'Free this week.', null, ${t(-2 * D)})`;
  await tx`insert into commerce_password_resets (user_id, token_hash, expires_at, used_at) values
    (${rohan}, ${"seed-expired-" + rohan}, ${t(-H)}, null), (${rohan}, ${"seed-used-" + rohan}, ${t(H)}, ${t(-10 * 60_000)})`;
  await tx`insert into commerce_addresses (user_id, line1, city, postal_code) values (${ghost}, '12 MG Road', 'Pune', '411001')`;
  return ["shop: pnpm job:run reconcile-stale-payments confirms one pending payment and fails another; check-stock-levels finds two products low (products/commerce/README.md)."];
}
