import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeRegistry } from "../../config/app";
import { createDeps } from "../../lib/deps";
import type { JobDefinition } from "../../lib/jobs/define";
import { runJob } from "../../lib/jobs/run";
import type { ScheduleEntry } from "../../lib/jobs/schedules";
import { defineProduct } from "../../lib/products";
import { sql, testEnv } from "../support/app";
import { VENDOR_ENV, vendors } from "../support/vendors";

// The README's "Add a job", run as a reader would follow it: its job code, its SQL function and its
// schedule entry, taken from the README's text (not from a copy), in a product of their own.
const readme = readFileSync("README.md", "utf8");
const section = readme.slice(readme.indexOf("## Add a job"), readme.indexOf("\n## ", readme.indexOf("## Add a job") + 1));
const block = (lang: string) => {
  const m = new RegExp("```" + lang + "\\n([\\s\\S]*?)```").exec(section);
  if (!m) throw new Error(`README's "Add a job" has no \`\`\`${lang} block`);
  return m[1]!.replace(/^ {3}/gm, "");
};
const jobCode = block("ts");
const functionSql = block("sql");
/** Step 4's entry of schedules.ts, an object literal in inline code. */
const scheduleCode = /`(\{ job: "send-order-emails"[^`]*\})`/.exec(section)?.[1];

const dir = mkdtempSync(join(tmpdir(), "cronlayer-readme-example-"));
let deps: ReturnType<typeof createDeps>;

beforeAll(async () => {
  mkdirSync(join(dir, "jobs"));
  writeFileSync(join(dir, "jobs", "send-order-emails.ts"), jobCode);
  const job = ((await import(/* @vite-ignore */ join(dir, "jobs", "send-order-emails.ts"))) as { default: JobDefinition }).default;
  if (!scheduleCode) throw new Error(`README's "Add a job" step 4 shows no schedule entry for send-order-emails`);
  const schedule = new Function(`return (${scheduleCode});`)() as ScheduleEntry;
  const product = defineProduct({ name: "readme-example", title: "README example", summary: "the README's job", jobs: [job], schedules: [schedule] });
  await sql().unsafe(functionSql);
  deps = createDeps(testEnv(VENDOR_ENV), composeRegistry([product]));
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await deps?.db.close();
});

async function order(status: "shipped" | "processing") {
  const tag = randomUUID().slice(0, 8);
  const [u] = await sql()<{ id: string; email: string }[]>`insert into commerce_users (email, name, verified) values (${`reader-${tag}@example.test`}, 'Reader', true) returning id, email`;
  const [o] = await sql()<{ id: string }[]>`insert into commerce_orders (user_id, status, total) values (${u!.id}, ${status}, 250000) returning id`;
  return { id: o!.id, email: u!.email };
}

describe("the README's example job", () => {
  it("is a job of the registry, with the README's schedule", () => {
    expect(deps.registry.get("send-order-emails")).toBeDefined();
    expect(deps.registry.scheduleOf("send-order-emails")).toMatchObject({ job: "send-order-emails", cron: "*/15 * * * *" });
  });

  it("emails each shipped order's customer once, through Resend with the effect's key, and never again", async () => {
    const v = vendors();
    const shipped = await order("shipped");
    await order("processing");

    const first = await runJob({ job: "send-order-emails", payload: {}, trigger: "cli" }, deps);
    expect(first).toMatchObject({ status: "succeeded", stats: { sent: 1, failed: 0, unknown: 0 } });
    expect(v.resend).toHaveLength(1);
    expect(v.resend[0]).toMatchObject({ idempotencyKey: `order-shipped:${shipped.id}`, body: { to: shipped.email, subject: "Your order shipped" } });
    expect(v.resend[0]!.body.text).toBe(`Order ${shipped.id} is on its way.`);
    expect(await sql()`select status from effects where key = ${`order-shipped:${shipped.id}`}`).toEqual([{ status: "succeeded" }]);

    const again = await runJob({ job: "send-order-emails", payload: {}, trigger: "cli" }, deps);
    expect(again).toMatchObject({ status: "succeeded", stats: { sent: 0 } });
    expect(v.resend).toHaveLength(1);
  });
});
