import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../dev/qstash/server";
import { rejection, startRig, type Rig } from "./qstash-harness";

let rig: Rig;
beforeEach(async () => {
  // A whole second, so that an HTTP-date Retry-After (second precision) lands on exact times.
  rig = await startRig({ clock: new ManualClock(Math.floor(Date.now() / 1000) * 1000) });
});
afterEach(() => rig.close());

const b64 = (s: string) => Buffer.from(s).toString("base64");
const json = (b: Buffer) => JSON.parse(b.toString("utf8")) as Record<string, unknown>;

describe("retries", () => {
  it("retries with QStash's default backoff, same message id, then the DLQ and a signed failure callback", async () => {
    rig.dest.answer((r) => (r.path === "/failed" ? { status: 200 } : { status: 500, body: '{"error":"down"}', headers: { "X-Why": "db" } }));
    const t0 = rig.clock.now();
    const url = `${rig.dest.url}/job`;
    const res = await rig.client.publishJSON({ url, body: { job: 1 }, retries: 2, failureCallback: `${rig.dest.url}/failed` });
    await rig.clock.advance(12 * 3600_000);

    const attempts = rig.dest.received.filter((r) => r.path === "/job");
    // min(86400, e^(2.5 n)) seconds with n = 1, 2: 12.182 s, then 148.413 s later.
    expect(attempts.map((r) => r.at - t0)).toEqual([0, 12_182, 12_182 + 148_413]);
    expect(attempts.map((r) => r.headers["upstash-retried"])).toEqual(["0", "1", "2"]);
    expect(new Set(attempts.map((r) => r.headers["upstash-message-id"]))).toEqual(new Set([res.messageId]));
    for (const a of attempts) expect(await rig.verify(a, url)).toBe(true);

    const { messages } = await rig.client.dlq.listMessages();
    expect(messages).toHaveLength(1);
    const dead = messages[0]!;
    expect(dead).toMatchObject({ messageId: res.messageId, url, responseStatus: 500, responseBody: '{"error":"down"}', maxRetries: 2, body: '{"job":1}' });
    expect(dead.responseHeader?.["X-Why"]).toEqual(["db"]);

    const callbacks = rig.dest.received.filter((r) => r.path === "/failed");
    expect(callbacks).toHaveLength(1);
    const cb = callbacks[0]!;
    expect(cb.at).toBe(attempts[2]!.at);
    expect(cb.headers["content-type"]).toBe("application/json");
    expect(await rig.verify(cb, `${rig.dest.url}/failed`)).toBe(true);
    expect(json(cb.body)).toMatchObject({
      status: 500,
      header: { "X-Why": ["db"] },
      body: b64('{"error":"down"}'),
      retried: 2,
      maxRetries: 2,
      dlqId: dead.dlqId,
      sourceMessageId: res.messageId,
      url,
      method: "POST",
      sourceHeader: { "Content-Type": ["application/json"] },
      sourceBody: b64('{"job":1}'),
      notBefore: t0,
      createdAt: t0,
      callerIP: "127.0.0.1",
    });
    expect(await rejection(rig.client.messages.get(res.messageId))).toMatchObject({ status: 404 });

    const { events } = await rig.client.logs({ messageIds: [res.messageId] });
    expect(events.map((e) => e.state).reverse()).toEqual(["CREATED", "ACTIVE", "ERROR", "RETRY", "ACTIVE", "ERROR", "RETRY", "ACTIVE", "ERROR", "FAILED"]);
    expect(events.find((e) => e.state === "RETRY")!.nextDeliveryTime).toBe(t0 + 148_413 + 12_182);
  });

  it("evaluates Upstash-Retry-Delay over `retried` (0 on the first retry)", async () => {
    rig.dest.answer(() => ({ status: 503 }));
    const t0 = rig.clock.now();
    await rig.client.publish({ url: `${rig.dest.url}/x`, body: "x", retries: 3, retryDelay: "max(1000, pow(2, retried) * 1500) + 0 * sqrt(4)" });
    await rig.clock.advance(60_000);
    expect(rig.dest.received.map((r) => r.at - t0)).toEqual([0, 1500, 1500 + 3000, 1500 + 3000 + 6000]);
  });

  it("honours Retry-After in seconds, as a Go duration and as an HTTP date, over the backoff", async () => {
    const t0 = rig.clock.now();
    const answers = [
      { status: 429, headers: { "Retry-After": "30" } },
      { status: 503, headers: { "Retry-After": "1m30s" } },
      { status: 503, headers: { "Retry-After": new Date(t0 + 30_000 + 90_000 + 45_000).toUTCString() } },
      { status: 200 },
    ];
    rig.dest.answer((_, i) => answers[i]!);
    await rig.client.publish({ url: `${rig.dest.url}/x`, body: "x", retries: 3 });
    await rig.clock.advance(10 * 60_000);
    expect(rig.dest.received.map((r) => r.at - t0)).toEqual([0, 30_000, 120_000, 165_000]);
    expect(rig.server.state.dlq).toHaveLength(0);
  });

  it("caps Retry-After at one day", async () => {
    rig.dest.answer((_, i) => (i === 0 ? { status: 429, headers: { "Retry-After": "999999" } } : { status: 200 }));
    const t0 = rig.clock.now();
    await rig.client.publish({ url: `${rig.dest.url}/x`, body: "x" });
    await rig.clock.advance(2 * 86_400_000);
    expect(rig.dest.received.map((r) => r.at - t0)).toEqual([0, 86_400_000]);
  });

  it("489 with Upstash-NonRetryable-Error fails at once to the DLQ; 489 without it is retried", async () => {
    rig.dest.answer((r) => (r.path === "/final" ? { status: 489, headers: { "Upstash-NonRetryable-Error": "true" }, body: "bad payload" } : { status: 489 }));
    const final = await rig.client.publish({ url: `${rig.dest.url}/final`, body: "x", retries: 3 });
    await rig.client.publish({ url: `${rig.dest.url}/plain`, body: "x", retries: 1 });
    await rig.clock.advance(3600_000);
    expect(rig.dest.received.filter((r) => r.path === "/final")).toHaveLength(1);
    expect(rig.dest.received.filter((r) => r.path === "/plain")).toHaveLength(2);
    const dlq = await rig.client.dlq.listMessages({ filter: { url: `${rig.dest.url}/final` } });
    expect(dlq.messages.map((m) => [m.messageId, m.responseStatus, m.responseBody])).toEqual([[final.messageId, 489, "bad payload"]]);
  });

  it("gives up an attempt after Upstash-Timeout", async () => {
    rig.dest.answer(() => ({ status: 200, delayMs: 3000 }));
    const started = Date.now();
    const res = await rig.client.publish({ url: `${rig.dest.url}/slow`, body: "x", timeout: 1, retries: 0 });
    await rig.clock.settle();
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(2500);
    const [dead] = rig.server.state.dlq;
    expect(dead?.message.messageId).toBe(res.messageId);
    expect(dead?.error).toMatch(/^timeout/);
  });

  it("POSTs the callback after each attempt with the response, signed for the callback URL", async () => {
    rig.dest.answer((r, i) => (r.path === "/cb" ? { status: 200 } : i === 0 ? { status: 500, body: "first" } : { status: 201, body: "done" }));
    const url = `${rig.dest.url}/work`;
    const res = await rig.client.publish({ url, body: "payload", retries: 1, retryDelay: "1000", callback: `${rig.dest.url}/cb` });
    await rig.clock.advance(5000);
    const cbs = rig.dest.received.filter((r) => r.path === "/cb");
    expect(cbs.map((c) => json(c.body)).map((b) => [b.status, b.body, b.retried, b.sourceMessageId, b.dlqId])).toEqual([
      [500, b64("first"), 0, res.messageId, undefined],
      [201, b64("done"), 1, res.messageId, undefined],
    ]);
    expect(await rig.verify(cbs[1]!, `${rig.dest.url}/cb`)).toBe(true);
    expect(cbs[0]!.headers["upstash-message-id"]).not.toBe(res.messageId);
  });
});

describe("DLQ", () => {
  async function fill(n: number) {
    rig.dest.answer(() => ({ status: 500 }));
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await rig.client.publish({ url: `${rig.dest.url}/d${i}`, body: `b${i}`, retries: 0 })).messageId);
    await rig.clock.settle();
    return ids;
  }

  it("lists newest first with cursor and count, and gets one by dlqId", async () => {
    const ids = await fill(3);
    const page1 = await rig.client.dlq.listMessages({ count: 2 });
    expect(page1.messages.map((m) => m.messageId)).toEqual([ids[2], ids[1]]);
    expect(page1.cursor).toBeDefined();
    const page2 = await rig.client.dlq.listMessages({ count: 2, cursor: page1.cursor });
    expect(page2.messages.map((m) => m.messageId)).toEqual([ids[0]]);
    expect(page2.cursor).toBeUndefined();

    const res = await fetch(`${rig.server.url}/v2/dlq/${page2.messages[0]!.dlqId}`, { headers: { Authorization: `Bearer ${rig.server.token}` } });
    expect(await res.json()).toMatchObject({ messageId: ids[0], dlqId: page2.messages[0]!.dlqId, responseStatus: 500, url: `${rig.dest.url}/d0`, body: "b0" });
  });

  it("deletes one, then several by dlqIds -> {deleted}", async () => {
    await fill(3);
    const [a, b, c] = (await rig.client.dlq.listMessages()).messages.map((m) => m.dlqId);
    expect(await rig.client.dlq.delete(a!)).toEqual({ deleted: 1 });
    expect(await rig.client.dlq.delete([b!, c!])).toEqual({ deleted: 2 });
    expect((await rig.client.dlq.listMessages()).messages).toEqual([]);
    const missing = await fetch(`${rig.server.url}/v2/dlq/${a}`, { method: "DELETE", headers: { Authorization: `Bearer ${rig.server.token}` } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: `dlq message ${a} not found` });
  });

  it("retries by dlqIds -> {responses} and by path -> {messageId}: new messages, delivered, gone from the DLQ", async () => {
    const ids = await fill(2);
    const dlq = (await rig.client.dlq.listMessages()).messages;
    rig.dest.answer(() => ({ status: 200 }));
    const many = await rig.client.dlq.retry([dlq[0]!.dlqId]);
    expect(many.responses).toHaveLength(1);
    expect(many.responses[0]!.messageId).not.toBe(ids[1]);
    const one = await fetch(`${rig.server.url}/v2/dlq/retry/${dlq[1]!.dlqId}`, { method: "POST", headers: { Authorization: `Bearer ${rig.server.token}` } });
    const { messageId } = (await one.json()) as { messageId: string };
    expect(messageId).toMatch(/^msg_/);
    await rig.clock.settle();
    const ok = rig.dest.received.slice(2);
    expect(ok.map((r) => [r.path, r.text, r.headers["upstash-message-id"], r.headers["upstash-retried"]])).toEqual([
      ["/d1", "b1", many.responses[0]!.messageId, "0"],
      ["/d0", "b0", messageId, "0"],
    ]);
    expect((await rig.client.dlq.listMessages()).messages).toEqual([]);
  });
});
