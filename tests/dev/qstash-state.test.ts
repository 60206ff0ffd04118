import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@upstash/qstash";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, startQStashServer, type QStashServer } from "../../dev/qstash/server";
import { startDestination, type Destination } from "./qstash-harness";

let dir: string;
let dest: Destination;
const clock = new ManualClock(Date.UTC(2026, 0, 15, 12, 0, 30));
const servers: QStashServer[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "qstash-state-"));
  dest = await startDestination(() => clock.now());
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
afterAll(async () => {
  await dest.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(stateFile: string) {
  const server = await startQStashServer({ port: 0, clock, stateFile });
  servers.push(server);
  return { server, client: new Client({ baseUrl: server.url, token: server.token, retry: false }) };
}

describe("state file", () => {
  it("keeps pending messages, schedules and the DLQ across a restart; the pending message is delivered after it", async () => {
    const file = join(dir, "restart", "qstash.json");
    dest.answer((r) => (r.path === "/dead" ? { status: 500, body: "nope" } : { status: 200 }));
    const a = await start(file);
    const pending = await a.client.publishJSON({ url: `${dest.url}/later`, body: { n: 1 }, delay: "1m", headers: { "X-Keep": "yes" } });
    await a.client.schedules.create({ destination: `${dest.url}/cron`, cron: "*/5 * * * *", scheduleId: "keep" });
    await a.client.publish({ url: `${dest.url}/dead`, body: "d", retries: 0 });
    await clock.settle();
    await a.server.close();
    servers.length = 0;

    const saved = JSON.parse(readFileSync(file, "utf8")) as { messages: Record<string, unknown>; schedules: Record<string, unknown>; dlq: unknown[] };
    expect(Object.keys(saved.messages)).toEqual([pending.messageId]);
    expect(Object.keys(saved.schedules)).toEqual(["keep"]);
    expect(saved.dlq).toHaveLength(1);
    expect(readdirSync(join(dir, "restart"))).toEqual(["qstash.json"]);

    const b = await start(file);
    expect(await b.client.messages.get(pending.messageId)).toMatchObject({ body: '{"n":1}', header: { "X-Keep": ["yes"] } });
    expect((await b.client.dlq.listMessages()).messages.map((m) => m.responseBody)).toEqual(["nope"]);
    const before = dest.received.length;
    await clock.advance(5 * 60_000);
    const after = dest.received.slice(before);
    expect(after.map((r) => [r.path, r.at])).toEqual([
      ["/later", Date.UTC(2026, 0, 15, 12, 1, 30)],
      ["/cron", Date.UTC(2026, 0, 15, 12, 5)],
    ]);
    expect(after[0]!.headers["upstash-message-id"]).toBe(pending.messageId);
    expect(after[1]!.headers["upstash-schedule-id"]).toBe("keep");
    expect(after[0]!.text).toBe('{"n":1}');
  });

  it("refuses to start on a corrupt state file, naming it", async () => {
    const file = join(dir, "corrupt.json");
    writeFileSync(file, "{not json");
    await expect(startQStashServer({ port: 0, clock, stateFile: file })).rejects.toThrow(`QStash state file ${file} is not valid JSON`);
  });

  it("without a state file, a restart starts empty", async () => {
    const a = await startQStashServer({ port: 0, clock });
    const client = new Client({ baseUrl: a.url, token: a.token, retry: false });
    await client.schedules.create({ destination: `${dest.url}/x`, cron: "0 0 * * *" });
    await a.close();
    const b = await startQStashServer({ port: 0, clock });
    servers.push(b);
    expect(await new Client({ baseUrl: b.url, token: b.token, retry: false }).schedules.list()).toEqual([]);
  });
});
