import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "../../lib/db";
import { describeOutboxEntry, outboxEmail, outboxRecorder } from "../../lib/providers/outbox";
import { sql, testEnv } from "../support/app";

// The local stand-in for Resend, as `pnpm dev` uses it: a batch is one request with its emails.
const db = createDb(testEnv().database);
afterAll(() => db.close());

describe("the outbox stand-in and Resend batches", () => {
  it("records a batch as one request of N emails under the request's key, and answers a repeat with the same ids", async () => {
    const email = outboxEmail(outboxRecorder(db), "Lingo <hello@example.test>");
    const key = `batch:test:${randomUUID()}`;
    const emails = ["ana", "ben", "cy"].map((n) => ({ to: `${n}@example.test`, subject: "Time for today's practice", text: "t", html: "<p>t</p>", tags: { kind: "practice-reminder" } }));
    const first = await email.sendBatch({ emails, idempotencyKey: key });
    expect(first).toHaveLength(3);
    expect(new Set(first.map((a) => a && "id" in a && a.id)).size).toBe(3);
    expect(await email.sendBatch({ emails, idempotencyKey: key })).toEqual(first);

    const rows = await sql()<{ id: number; provider: string; key: string; payload: { from: string; batch: { to: string }[] }; created_at: string }[]>`
      select id, provider, idempotency_key as key, payload, created_at::text from provider_outbox where idempotency_key = ${key}`;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.payload.batch.map((e) => e.to)).toEqual(["ana@example.test", "ben@example.test", "cy@example.test"]);
    expect(describeOutboxEntry(rows[0]!)).toBe(`resend batch of 3 to ana@example.test and 2 more: Time for today's practice  (key ${key})`);
  });
});
