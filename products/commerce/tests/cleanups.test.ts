import { describe, expect, it } from "vitest";
import cleanupInventoryLocks from "../jobs/cleanup-inventory-locks";
import cleanupNotifications from "../jobs/cleanup-notifications";
import cleanupPasswordResets from "../jobs/cleanup-password-resets";
import cleanupUnverifiedUsers from "../jobs/cleanup-unverified-users";
import type { JobDefinition } from "@/lib/jobs/define";
import { runJob } from "@/lib/jobs/run";
import { sql, testDeps } from "../../../tests/support/app";
import { COMMERCE_ENV, insertOrder, insertProduct, insertUser } from "./support";
import { days } from "../../../tests/support/vendors";

// 2017: no other test's clock is there.
const clock = new Date("2017-06-15T12:00:00Z");
const jobs = [cleanupInventoryLocks, cleanupNotifications, cleanupPasswordResets, cleanupUnverifiedUsers] as JobDefinition[];
const deps = { ...testDeps(jobs, jobs.map((j) => ({ job: j.name, cron: "0 * * * *", overlap: "allow" as const })), COMMERCE_ENV), clock: () => clock };
const run = (job: JobDefinition) => runJob({ job: job.name, payload: {}, trigger: "cli" }, deps);
const count = async (table: string, where = "true") => (await sql().unsafe<{ n: number }[]>(`select count(*)::int as n from ${table} where ${where}`))[0]!.n;

describe("cleanup-inventory-locks", () => {
  it("releases every expired lock in batches of 5,000, keeps live ones; a repeat and a concurrent run release nothing twice", async () => {
    const product = await insertProduct();
    await sql()`insert into commerce_inventory_locks (product_id, quantity, expires_at)
                select ${product.id}, 1, ${clock}::timestamptz - make_interval(secs => g) from generate_series(0, 10000) g`;
    await sql()`insert into commerce_inventory_locks (product_id, quantity, expires_at) values (${product.id}, 2, ${new Date(clock.getTime() + 60_000)})`;

    expect(await run(cleanupInventoryLocks)).toMatchObject({ status: "succeeded", stats: { released: 10_001 } });
    expect(await count("commerce_inventory_locks")).toBe(1);
    expect(await run(cleanupInventoryLocks)).toMatchObject({ status: "succeeded", stats: { released: 0 } });

    await sql()`insert into commerce_inventory_locks (product_id, quantity, expires_at)
                select ${product.id}, 1, ${clock}::timestamptz - interval '1 minute' from generate_series(1, 7000)`;
    const [a, b] = await Promise.all([run(cleanupInventoryLocks), run(cleanupInventoryLocks)]);
    if (a.status !== "succeeded" || b.status !== "succeeded") throw new Error(`runs failed: ${a.status} ${b.status}`);
    expect((a.stats.released as number) + (b.stats.released as number)).toBe(7_000);
    expect(await count("commerce_inventory_locks")).toBe(1);
  });
});

describe("cleanup-notifications", () => {
  it("deletes read notifications older than 30 days only", async () => {
    const user = await insertUser();
    const add = (kind: string, createdAt: Date, readAt: Date | null) =>
      sql()`insert into commerce_notifications (user_id, kind, title, body, read_at, created_at) values (${user.id}, ${kind}, 't', 'b', ${readAt}, ${createdAt})`;
    await add("old-read", new Date(clock.getTime() - days(31)), new Date(clock.getTime() - days(30)));
    await add("old-unread", new Date(clock.getTime() - days(40)), null);
    await add("new-read", new Date(clock.getTime() - days(29)), new Date(clock.getTime() - days(29)));

    expect(await run(cleanupNotifications)).toMatchObject({ status: "succeeded", stats: { deleted: 1 } });
    expect((await sql()<{ kind: string }[]>`select kind from commerce_notifications where user_id = ${user.id} order by kind`).map((r) => r.kind)).toEqual(["new-read", "old-unread"]);
    expect(await run(cleanupNotifications)).toMatchObject({ stats: { deleted: 0 } });
  });
});

describe("cleanup-password-resets", () => {
  it("deletes expired and used tokens, keeps the ones still redeemable", async () => {
    const user = await insertUser();
    const add = (token: string, expiresAt: Date, usedAt: Date | null = null) =>
      sql()`insert into commerce_password_resets (user_id, token_hash, expires_at, used_at) values (${user.id}, ${token}, ${expiresAt}, ${usedAt})`;
    await add(`expired-${user.id}`, new Date(clock.getTime() - 1));
    await add(`used-${user.id}`, new Date(clock.getTime() + days(1)), new Date(clock.getTime() - 60_000));
    await add(`live-${user.id}`, new Date(clock.getTime() + 3_600_000));

    const [a, b] = await Promise.all([run(cleanupPasswordResets), run(cleanupPasswordResets)]);
    if (a.status !== "succeeded" || b.status !== "succeeded") throw new Error(`runs failed: ${a.status} ${b.status}`);
    expect((a.stats.deleted as number) + (b.stats.deleted as number)).toBe(2);
    expect((await sql()<{ token_hash: string }[]>`select token_hash from commerce_password_resets where user_id = ${user.id}`).map((r) => r.token_hash)).toEqual([`live-${user.id}`]);
  });
});

describe("cleanup-unverified-users", () => {
  it("deletes accounts unverified for 30 days with their dependent rows; keeps verified, recent and ordering ones", async () => {
    const old = new Date(clock.getTime() - days(31));
    const gone = await insertUser({ verified: false, createdAt: old });
    const recent = await insertUser({ verified: false, createdAt: new Date(clock.getTime() - days(29)) });
    const verified = await insertUser({ verified: true, createdAt: old });
    const customer = await insertUser({ verified: false, createdAt: old });
    const product = await insertProduct();
    await insertOrder({ user: customer.id, items: [{ product: product.id, quantity: 1 }], status: "delivered" });
    await sql()`insert into commerce_addresses (user_id, line1, city, postal_code) values (${gone.id}, '1 MG Road', 'Pune', '411001')`;
    await sql()`insert into commerce_notifications (user_id, kind, title, body) values (${gone.id}, 'welcome', 't', 'b')`;
    await sql()`insert into commerce_password_resets (user_id, token_hash, expires_at) values (${gone.id}, ${`t-${gone.id}`}, ${new Date(clock.getTime() + days(1))})`;
    await sql()`insert into commerce_inventory_locks (product_id, user_id, quantity, expires_at) values (${product.id}, ${gone.id}, 1, ${new Date(clock.getTime() + days(1))})`;

    expect(await run(cleanupUnverifiedUsers)).toMatchObject({ status: "succeeded", stats: { deleted: 1 } });
    const mine = [gone.id, recent.id, verified.id, customer.id];
    const left = (await sql()<{ id: string }[]>`select id from commerce_users where id = any(${mine})`).map((r) => r.id);
    expect(left.sort()).toEqual([recent.id, verified.id, customer.id].sort());
    for (const t of ["commerce_addresses", "commerce_notifications", "commerce_password_resets", "commerce_inventory_locks"]) {
      expect(await count(t, `user_id = '${gone.id}'`)).toBe(0);
    }
    expect(await run(cleanupUnverifiedUsers)).toMatchObject({ stats: { deleted: 0 } });
  });
});
