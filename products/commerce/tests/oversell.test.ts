import { describe, expect, it } from "vitest";
import { sql } from "../../../tests/support/app";
import { checkout, orderFlow } from "./order-flow";
import { COMMERCE_ENV, insertOrder, insertPayment, insertProduct, insertUser, minutes, orderRow, shopVendors, stockOf } from "./support";

/**
 * A payment Razorpay captures after the order's stock hold lapsed and the stock was sold: confirmed
 * (the money is taken), never taken from stock that is not there, flagged for a person, the admins
 * told once (counted at the Resend and Slack mocks).
 */
const { captured, settled } = orderFlow();

describe("a payment confirmed after its hold expired, with the stock gone", () => {
  it("leaves stock at what is really there, confirms the order as needs_attention, alerts the admins once", async () => {
    const v = shopVendors();
    // The ring's last unit; the order is for 3, and its 30-minute hold lapsed before Razorpay called.
    const p = await checkout({ stock: 1, quantity: 3, lockedFor: -minutes(5) });
    expect(await captured(p.transactionId, 750_000)).toEqual({ status: 200, body: { outcome: "confirmed", orderId: p.order } });
    expect(await captured(p.transactionId, 750_000)).toEqual({ status: 200, body: { outcome: "already", orderId: p.order } });
    expect(await stockOf(p.product)).toBe(0);
    const row = await orderRow(p.order);
    expect(row).toMatchObject({ status: "processing", attention_reason: "paid without its stock (its hold had expired): Emerald ring: 2 of 3 not in stock" });
    expect(row.needs_attention_at).not.toBeNull();
    expect(await sql()`select short_quantity from commerce_order_items where order_id = ${p.order}`).toEqual([{ short_quantity: 2 }]);
    await settled();
    const admin = v.resend.filter((c) => c.idempotencyKey === `order:${p.order}:needs-attention`);
    expect(admin).toHaveLength(1);
    expect(admin[0]!.body).toMatchObject({ to: [COMMERCE_ENV.ALERT_EMAIL], subject: `Order ${row.order_number} is paid but short of stock` });
    expect(admin[0]!.body.text).toContain("Emerald ring");
    expect(v.slack.filter((c) => JSON.stringify(c).includes(row.order_number))).toHaveLength(1);
    const customer = v.resend.filter((c) => c.idempotencyKey === `order:${p.order}:confirmed`);
    expect(customer).toHaveLength(1);
    expect(customer[0]!.body.text).not.toContain("Estimated delivery");
  });

  it("does not take stock another live checkout holds: that checkout still confirms in full", async () => {
    const v = shopVendors();
    const user = await insertUser();
    const product = await insertProduct({ stock: 2 });
    const lapsed = await insertOrder({ user: user.id, items: [{ product: product.id, quantity: 1 }], lockedUntil: new Date(Date.now() - minutes(5)) });
    const held = await insertOrder({ user: user.id, items: [{ product: product.id, quantity: 2 }], lockedUntil: new Date(Date.now() + minutes(20)) });
    const late = await insertPayment({ order: lapsed, createdAt: new Date() });
    const onTime = await insertPayment({ order: held, createdAt: new Date(), amount: 500_000 });
    expect(await captured(late.transactionId)).toMatchObject({ status: 200, body: { outcome: "confirmed" } });
    expect(await stockOf(product.id)).toBe(2);
    expect(await orderRow(lapsed)).toMatchObject({ status: "processing", needs_attention_at: expect.any(Date) });
    expect(await captured(onTime.transactionId, 500_000)).toMatchObject({ status: 200, body: { outcome: "confirmed" } });
    expect(await stockOf(product.id)).toBe(0);
    expect(await orderRow(held)).toMatchObject({ status: "processing", needs_attention_at: null });
    await settled();
    expect(v.resend.filter((c) => c.idempotencyKey?.endsWith(":needs-attention")).map((c) => c.idempotencyKey)).toEqual([`order:${lapsed}:needs-attention`]);
  });
});
