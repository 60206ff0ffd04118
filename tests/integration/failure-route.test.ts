import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { defineJob } from "../../lib/jobs/define";
import { failureRoute } from "../../lib/http/failure-route";
import { APP_URL, qstashRequest, sql, testDeps } from "../support/app";
import { signedRouteContract } from "../support/signed-route-contract";

const jobs = [defineJob({ name: "send-order-email", description: "t", handler: async () => ({}) })];
const deps = testDeps(jobs);
const route = failureRoute(async () => deps);
const bare = failureRoute(async () => testDeps(jobs, [], { CRON_SECRET: undefined }));
const b64 = (s: string) => Buffer.from(s).toString("base64");

/** A failure callback as QStash sends it after the last retry. */
function callback(messageId = `msg_${randomUUID()}`) {
  return JSON.stringify({
    status: 500,
    header: { "Content-Type": ["application/json"] },
    body: b64('{"error":"Resend is down"}'),
    retried: 3,
    maxRetries: 3,
    dlqId: `dlq_${randomUUID()}`,
    sourceMessageId: messageId,
    url: `${APP_URL}/api/jobs/send-order-email`,
    method: "POST",
    sourceHeader: {},
    sourceBody: b64('{"orderId":"o-1","status":"shipped"}'),
    notBefore: 0,
    createdAt: Date.now(),
    callerIP: "127.0.0.1",
  });
}

const count = async () => Number((await sql()`select count(*) from dead_letters where job = 'send-order-email'`)[0]!.count);

describe("failure callback /api/jobs/failed", () => {
  signedRouteContract(() => ({
    path: "/api/jobs/failed",
    otherPath: "/api/jobs/send-order-email",
    body: callback(),
    freshBody: () => callback(),
    bearer: false,
    handle: (req) => route.POST(req),
    handleWithoutSecret: (req) => bare.POST(req),
    written: count,
  }));

  it("stores a dead letter with the job, the response and the original body, once per message", async () => {
    const messageId = `msg_${randomUUID()}`;
    const body = callback(messageId);
    const first = await route.POST(qstashRequest("/api/jobs/failed", body));
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ status: "recorded", job: "send-order-email" });
    // QStash redelivers callbacks too: the same message must not become two dead letters.
    const again = await route.POST(qstashRequest("/api/jobs/failed", body));
    expect(again.status).toBe(200);
    const rows = await sql()`select * from dead_letters where source_message_id = ${messageId}`;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      job: "send-order-email",
      response_status: 500,
      response_body: '{"error":"Resend is down"}',
      source_body: '{"orderId":"o-1","status":"shipped"}',
      retried: 3,
      max_retries: 3,
    });
  });

  it("answers 489 for a body that is not a failure callback", async () => {
    const res = await route.POST(qstashRequest("/api/jobs/failed", JSON.stringify({ hello: "world" })));
    expect(res.status).toBe(489);
    expect(res.headers.get("upstash-nonretryable-error")).toBe("true");
    expect(((await res.json()) as { error: string }).error).toMatch(/sourceMessageId/);
  });
});
