import { Receiver } from "@upstash/qstash";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rejection, startRig, type Rig } from "./qstash-harness";

let rig: Rig;
beforeEach(async () => {
  rig = await startRig();
});
afterEach(() => rig.close());

describe("publish", () => {
  it("delivers the body, method, query and forwarded headers with every QStash header, signed", async () => {
    const url = `${rig.dest.url}/api/jobs/x?y=1&z=two`;
    const res = await rig.client.publish({ url, method: "PUT", body: '{"a":1}', headers: { "Content-Type": "application/json", "X-Tenant": "t-1" } });
    expect(res.messageId).toMatch(/^msg_/);
    expect(res.url).toBe(url);
    await rig.clock.settle();

    expect(rig.dest.received).toHaveLength(1);
    const r = rig.dest.received[0]!;
    expect(r.method).toBe("PUT");
    expect(r.path).toBe("/api/jobs/x?y=1&z=two");
    expect(r.text).toBe('{"a":1}');
    expect(r.headers["content-type"]).toBe("application/json");
    expect(r.headers["x-tenant"]).toBe("t-1");
    expect(r.headers["user-agent"]).toBe("Upstash-QStash");
    expect(r.headers["upstash-message-id"]).toBe(res.messageId);
    expect(r.headers["upstash-retried"]).toBe("0");
    expect(r.headers["upstash-caller-ip"]).toBe("127.0.0.1");
    expect(r.headers["upstash-region"]).toBe("eu-central-1");
    expect(r.headers["upstash-schedule-id"]).toBeUndefined();
    expect(r.headers["upstash-forward-x-tenant"]).toBeUndefined();
    expect(await rig.verify(r, url)).toBe(true);
    // The signature is bound to the exact destination: the same token fails for another URL.
    await expect(rig.verify(r, `${rig.dest.url}/api/jobs/x`)).rejects.toThrow(/invalid subject/);
  });

  it("keeps the // of the destination and accepts the token as ?qstash_token= without forwarding it", async () => {
    const url = `${rig.dest.url}//double/slash?keep=1`;
    const res = await fetch(`${rig.server.url}/v2/publish/${url}&qstash_token=${encodeURIComponent(rig.server.token)}`, { method: "POST", body: "raw" });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { url: string }).url).toBe(url);
    await rig.clock.settle();
    expect(rig.dest.received[0]!.path).toBe("//double/slash?keep=1");
  });

  it("delivers a binary body byte for byte and reports it as bodyBase64", async () => {
    const bytes = Uint8Array.from([0xff, 0x00, 0x80, 0x7f, 0xc3]);
    const res = await rig.client.publish({ url: `${rig.dest.url}/bin`, body: new Blob([bytes]), delay: 5, headers: { "Content-Type": "application/octet-stream" } });
    const msg = await rig.client.messages.get(res.messageId);
    expect(msg.body).toBeUndefined();
    expect(msg.bodyBase64).toBe(Buffer.from(bytes).toString("base64"));
    await rig.clock.advance(5000);
    expect([...rig.dest.received[0]!.body]).toEqual([...bytes]);
  });

  it("waits for Upstash-Delay on the server clock", async () => {
    const t0 = rig.clock.now();
    const res = await rig.client.publish({ url: `${rig.dest.url}/later`, body: "x", delay: "1m" });
    const msg = await rig.client.messages.get(res.messageId);
    expect(msg.createdAt).toBe(t0);
    expect(msg.notBefore).toBe(t0 + 60_000);
    expect(msg.maxRetries).toBe(3);
    await rig.clock.advance(59_999);
    expect(rig.dest.received).toHaveLength(0);
    await rig.clock.advance(1);
    expect(rig.dest.received.map((r) => r.at)).toEqual([t0 + 60_000]);
  });

  it("takes Upstash-Delay combinations like 1d10h30m", async () => {
    const t0 = rig.clock.now();
    const res = await rig.client.publish({ url: `${rig.dest.url}/x`, body: "x", headers: { "Upstash-Delay": "1d10h30m" } });
    expect((await rig.client.messages.get(res.messageId)).notBefore).toBe(t0 + (24 * 60 + 10 * 60 + 30) * 60_000);
  });

  it("delivers at Upstash-Not-Before (unix seconds), which wins over the delay", async () => {
    const at = Math.floor(rig.clock.now() / 1000) + 3600;
    await rig.client.publish({ url: `${rig.dest.url}/nb`, body: "x", notBefore: at, delay: 10 });
    await rig.clock.advance(3_599_000);
    expect(rig.dest.received).toHaveLength(0);
    await rig.clock.advance(1000);
    expect(rig.dest.received.map((r) => r.at)).toEqual([at * 1000]);
  });

  it("rejects a destination without http(s):// with QStash's message, and a URL-group name with 404", async () => {
    expect(await rejection(rig.client.publish({ url: "app.example.com/api/x", body: "x" }))).toEqual({
      status: 400,
      error: "invalid destination url: endpoint has invalid scheme, add http:// or https://",
    });
    expect(await rejection(rig.client.publish({ url: "ftp://app.example.com/x", body: "x" }))).toMatchObject({ status: 400, error: expect.stringMatching(/invalid scheme/) });
    expect(await rejection(rig.client.publish({ urlGroup: "my-group", body: "x" }))).toMatchObject({ status: 404, error: expect.stringMatching(/^topic my-group not found/) });
  });

  it("rejects bad header values with 400", async () => {
    const url = `${rig.dest.url}/x`;
    expect((await rejection(rig.client.publish({ url, body: "x", retryDelay: "process.exit(1)" }))).error).toMatch(/invalid Upstash-Retry-Delay/);
    expect((await rejection(rig.client.publish({ url, body: "x", headers: { "Upstash-Delay": "soon" } }))).error).toMatch(/invalid Upstash-Delay/);
    expect((await rejection(rig.client.publish({ url, body: "x", callback: "callback.example.com" }))).error).toMatch(/invalid callback url/);
    expect(rig.server.state.messages).toEqual({});
  });
});

describe("auth and signing", () => {
  it("answers 401 in QStash's error form for a wrong or missing token", async () => {
    const { Client } = await import("@upstash/qstash");
    const wrong = new Client({ baseUrl: rig.server.url, token: "not-the-token", retry: false });
    expect(await rejection(wrong.publish({ url: `${rig.dest.url}/x`, body: "x" }))).toEqual({ status: 401, error: "invalid token" });
    const res = await fetch(`${rig.server.url}/v2/keys`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toMatch(/authorization header is missing/);
    expect(rig.dest.received).toHaveLength(0);
  });

  it("GET /v2/keys answers the signing keys; the defaults are those of Upstash's dev server", async () => {
    const res = await fetch(`${rig.server.url}/v2/keys`, { headers: { Authorization: `Bearer ${rig.server.token}` } });
    expect(await res.json()).toEqual({ current: "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r", next: "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs" });
    expect(rig.server.token).toBe("eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=");
  });

  it("signs with the current key; after a rotation, a receiver with the old keys verifies through its next key", async () => {
    const old = new Receiver({ currentSigningKey: rig.server.currentSigningKey, nextSigningKey: rig.server.nextSigningKey });
    const oldNext = rig.server.nextSigningKey;
    rig.server.rotateSigningKeys("sig_brandNewNextKey000000000000");
    expect(rig.server.currentSigningKey).toBe(oldNext);
    await rig.client.publish({ url: `${rig.dest.url}/rot`, body: "b" });
    await rig.clock.settle();
    const r = rig.dest.received[0]!;
    const signature = String(r.headers["upstash-signature"]);
    await expect(old.verify({ signature, body: "b", url: `${rig.dest.url}/rot` })).resolves.toBe(true);
    const onlyOldCurrent = new Receiver({ currentSigningKey: "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r", nextSigningKey: "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r" });
    await expect(onlyOldCurrent.verify({ signature, body: "b" })).rejects.toThrow();
  });
  it("stamps signatures with the server clock by default, or with signingNow when given", async () => {
    const url = `${rig.dest.url}/t`;
    await rig.clock.advance(2 * 3600_000);
    await rig.client.publish({ url, body: "x" });
    await rig.clock.settle();
    const signature = String(rig.dest.received[0]!.headers["upstash-signature"]);
    // Two hours ahead on the server clock: a wall-clock receiver sees a token not valid yet...
    await expect(rig.receiver.verify({ signature, body: "x", url })).rejects.toThrow();
    // ...which is only a matter of time: with two hours of tolerance it verifies.
    await expect(rig.receiver.verify({ signature, body: "x", url, clockTolerance: 2 * 3600 + 5 })).resolves.toBe(true);

    const wall = await startRig({ signingNow: Date.now });
    try {
      await wall.clock.advance(2 * 3600_000);
      await wall.client.publish({ url: `${wall.dest.url}/t`, body: "x" });
      await wall.clock.settle();
      const wallSignature = String(wall.dest.received[0]!.headers["upstash-signature"]);
      await expect(wall.receiver.verify({ signature: wallSignature, body: "x", url: `${wall.dest.url}/t` })).resolves.toBe(true);
    } finally {
      await wall.close();
    }
  });
});

describe("enqueue and batch", () => {
  it("a queue delivers one at a time in order; plain publishes run in parallel", async () => {
    rig.dest.answer(() => ({ status: 200, delayMs: 40 }));
    const queue = rig.client.queue({ queueName: "emails" });
    for (const n of [1, 2, 3]) await queue.enqueue({ url: `${rig.dest.url}/q`, body: String(n) });
    await rig.clock.settle();
    expect(rig.dest.received.map((r) => r.text)).toEqual(["1", "2", "3"]);
    expect(rig.dest.maxConcurrent).toBe(1);

    rig.dest.maxConcurrent = 0;
    await Promise.all([1, 2, 3].map((n) => rig.client.publish({ url: `${rig.dest.url}/p`, body: String(n) })));
    await rig.clock.settle();
    expect(rig.dest.maxConcurrent).toBe(3);
  });

  it("GET /v2/messages shows the queue name of an enqueued message", async () => {
    const res = await rig.client.queue({ queueName: "q1" }).enqueueJSON({ url: `${rig.dest.url}/q`, body: { a: 1 }, delay: 30 });
    expect(await rig.client.messages.get(res.messageId)).toMatchObject({ queueName: "q1", body: '{"a":1}', header: { "Content-Type": ["application/json"] } });
  });

  it("batch answers one result per item, in order, and delivers each", async () => {
    const res = await rig.client.batchJSON([
      { url: `${rig.dest.url}/a`, body: { n: 1 } },
      { url: `${rig.dest.url}/b`, body: { n: 2 }, headers: { "X-Kind": "b" } },
      { url: `${rig.dest.url}/c`, body: { n: 3 }, queueName: "batchq" },
    ]);
    expect(res.map((r) => r.url)).toEqual([`${rig.dest.url}/a`, `${rig.dest.url}/b`, `${rig.dest.url}/c`]);
    expect(new Set(res.map((r) => r.messageId)).size).toBe(3);
    await rig.clock.settle();
    const byPath = Object.fromEntries(rig.dest.received.map((r) => [r.path, r]));
    expect(byPath["/a"]!.text).toBe('{"n":1}');
    expect(byPath["/b"]!.headers["x-kind"]).toBe("b");
    expect(byPath["/c"]!.headers["upstash-message-id"]).toBe(res[2]!.messageId);
    expect(await rig.verify(byPath["/b"]!, `${rig.dest.url}/b`)).toBe(true);
  });

  it("rejects the whole batch when one item is bad, accepting none", async () => {
    const err = await rejection(rig.client.batch([{ url: `${rig.dest.url}/ok`, body: "x" }, { url: "nope.example.com", body: "y" }]));
    expect(err).toEqual({ status: 400, error: "batch item 1: invalid destination url: endpoint has invalid scheme, add http:// or https://" });
    expect(rig.server.state.messages).toEqual({});
  });
});

describe("deduplication", () => {
  it("by Upstash-Deduplication-Id within 10 minutes: 202, same id, deduplicated: true, one delivery", async () => {
    const url = `${rig.dest.url}/d`;
    const first = await rig.client.publish({ url, body: "1", deduplicationId: "order-7" });
    const res = await fetch(`${rig.server.url}/v2/publish/${url}`, { method: "POST", body: "2", headers: { Authorization: `Bearer ${rig.server.token}`, "Upstash-Deduplication-Id": "order-7" } });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ messageId: first.messageId, url, deduplicated: true });
    await rig.clock.settle();
    expect(rig.dest.received.map((r) => r.text)).toEqual(["1"]);

    await rig.client.publish({ url, body: "4", deduplicationId: "order-8" });
    await rig.clock.advance(10 * 60_000);
    const later = await rig.client.publish({ url, body: "3", deduplicationId: "order-7" });
    expect(later.messageId).not.toBe(first.messageId);
    expect(later.deduplicated).toBeUndefined();
    // Expired ids are dropped, not kept for ever.
    expect(Object.keys(rig.server.state.dedup)).toEqual(["id:order-7"]);
  });

  it("by content: same destination, body and headers dedup; a different body does not", async () => {
    const url = `${rig.dest.url}/c`;
    const a = await rig.client.publishJSON({ url, body: { x: 1 }, contentBasedDeduplication: true });
    const b = await rig.client.publishJSON({ url, body: { x: 1 }, contentBasedDeduplication: true });
    const c = await rig.client.publishJSON({ url, body: { x: 2 }, contentBasedDeduplication: true });
    expect(b).toEqual({ messageId: a.messageId, url, deduplicated: true });
    expect(c.messageId).not.toBe(a.messageId);
    await rig.clock.settle();
    expect(rig.dest.received.map((r) => r.text).sort()).toEqual(['{"x":1}', '{"x":2}']);
  });
});

describe("messages and events", () => {
  it("GET then DELETE a pending message: cancelled, 404 afterwards, never delivered", async () => {
    const res = await rig.client.publish({ url: `${rig.dest.url}/m`, body: "x", delay: 60, label: ["billing", "nightly"], retries: 1 });
    const msg = await rig.client.messages.get(res.messageId);
    expect(msg).toMatchObject({ messageId: res.messageId, url: `${rig.dest.url}/m`, method: "POST", body: "x", maxRetries: 1, label: "billing", labels: ["billing", "nightly"] });
    expect(await rig.client.messages.cancel(res.messageId)).toEqual({ cancelled: 1 });
    expect(await rejection(rig.client.messages.get(res.messageId))).toEqual({ status: 404, error: `message ${res.messageId} not found` });
    await rig.clock.advance(120_000);
    expect(rig.dest.received).toHaveLength(0);
    const { events } = await rig.client.logs({ filter: { messageId: res.messageId } });
    expect(events.map((e) => e.state)).toEqual(["CANCELLED", "CANCEL_REQUESTED", "CREATED"]);
  });

  it("events list newest first, filter by message, and page with cursor and count", async () => {
    const res = await rig.client.publish({ url: `${rig.dest.url}/e`, body: "x" });
    await rig.clock.settle();
    const all = await rig.client.logs({ filter: { messageId: res.messageId } });
    expect(all.events.map((e) => e.state)).toEqual(["DELIVERED", "ACTIVE", "CREATED"]);
    expect(all.events[0]).toMatchObject({ messageId: res.messageId, url: `${rig.dest.url}/e`, time: rig.clock.now() });
    expect(all.cursor).toBeUndefined();

    const page1 = await rig.client.logs({ filter: { messageId: res.messageId }, count: 2 });
    expect(page1.events.map((e) => e.state)).toEqual(["DELIVERED", "ACTIVE"]);
    expect(typeof page1.cursor).toBe("string");
    const page2 = await rig.client.logs({ filter: { messageId: res.messageId }, count: 2, cursor: page1.cursor });
    expect(page2.events.map((e) => e.state)).toEqual(["CREATED"]);
    expect(page2.cursor).toBeUndefined();
  });
});
