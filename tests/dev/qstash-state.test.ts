import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@upstash/qstash";
import { describe, expect, it } from "vitest";
import { startQStashServer } from "../../dev/qstash/server";
import { persistedServers } from "./qstash-harness";

const p = persistedServers("qstash-state-");
const { clock, start } = p;

describe("state file", () => {
  it("keeps pending messages, schedules and the DLQ across a restart; the pending message is delivered after it", async () => {
    const file = join(p.dir, "restart", "qstash.json");
    p.dest.answer((r) => (r.path === "/dead" ? { status: 500, body: "nope" } : { status: 200 }));
    const a = await start(file);
    const pending = await a.client.publishJSON({ url: `${p.dest.url}/later`, body: { n: 1 }, delay: "1m", headers: { "X-Keep": "yes" } });
    await a.client.schedules.create({ destination: `${p.dest.url}/cron`, cron: "*/5 * * * *", scheduleId: "keep" });
    await a.client.publish({ url: `${p.dest.url}/dead`, body: "d", retries: 0 });
    await clock.settle();
    await a.server.close();
    p.servers.length = 0;

    const saved = JSON.parse(readFileSync(file, "utf8")) as { messages: Record<string, unknown>; schedules: Record<string, unknown>; dlq: unknown[] };
    expect(Object.keys(saved.messages)).toEqual([pending.messageId]);
    expect(Object.keys(saved.schedules)).toEqual(["keep"]);
    expect(saved.dlq).toHaveLength(1);
    expect(readdirSync(join(p.dir, "restart"))).toEqual(["qstash.json"]);

    const b = await start(file);
    expect(await b.client.messages.get(pending.messageId)).toMatchObject({ body: '{"n":1}', header: { "X-Keep": ["yes"] } });
    expect((await b.client.dlq.listMessages()).messages.map((m) => m.responseBody)).toEqual(["nope"]);
    const before = p.dest.received.length;
    await clock.advance(5 * 60_000);
    const after = p.dest.received.slice(before);
    expect(after.map((r) => [r.path, r.at])).toEqual([
      ["/later", Date.UTC(2026, 0, 15, 12, 1, 30)],
      ["/cron", Date.UTC(2026, 0, 15, 12, 5)],
    ]);
    expect(after[0]!.headers["upstash-message-id"]).toBe(pending.messageId);
    expect(after[1]!.headers["upstash-schedule-id"]).toBe("keep");
    expect(after[0]!.text).toBe('{"n":1}');
  });

  it("refuses to start on a corrupt state file, naming it", async () => {
    const file = join(p.dir, "corrupt.json");
    writeFileSync(file, "{not json");
    await expect(startQStashServer({ port: 0, clock, stateFile: file })).rejects.toThrow(`QStash state file ${file} is not valid JSON`);
  });

  it("without a state file, a restart starts empty", async () => {
    const a = await startQStashServer({ port: 0, clock });
    const client = new Client({ baseUrl: a.url, token: a.token, retry: false });
    await client.schedules.create({ destination: `${p.dest.url}/x`, cron: "0 0 * * *" });
    await a.close();
    const b = await startQStashServer({ port: 0, clock });
    p.servers.push(b);
    expect(await new Client({ baseUrl: b.url, token: b.token, retry: false }).schedules.list()).toEqual([]);
  });
});
