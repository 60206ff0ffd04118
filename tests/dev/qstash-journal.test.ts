import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadState } from "../../dev/qstash/store";
import { persistedServers } from "./qstash-harness";

const p = persistedServers("qstash-journal-");
const { clock, start } = p;

/** The state as JSON would keep it (undefined fields dropped). */
const plain = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;
/** Lets the store's end-of-turn flush run (changes made by timers, not by a request). */
const turn = () => new Promise((r) => setImmediate(r));

describe("append-only journal", () => {
  it("what is on disk while the server runs (a crash now) equals the live state, after every kind of change", async () => {
    const file = join(p.dir, "live", "qstash.json");
    p.dest.answer((r) => (r.path.startsWith("/dead") ? { status: 500, body: "no" } : { status: 200 }));
    const { server, client } = await start(file);
    const snapshot = statSync(file);
    const same = async () => {
      await turn();
      expect(plain(loadState(file))).toEqual(plain(server.state));
    };

    const later = await client.publishJSON({ url: `${p.dest.url}/later`, body: { a: 1 }, delay: "1h", deduplicationId: "d-1" });
    await client.publish({ url: `${p.dest.url}/later`, body: "dup", deduplicationId: "d-1" });
    await same();
    await client.publish({ url: `${p.dest.url}/dead/1`, body: "x", retries: 1, label: "l" });
    await client.publish({ url: `${p.dest.url}/dead/2`, body: "x", retries: 0 });
    await clock.settle();
    await same();
    await clock.advance(60_000);
    await same();
    await client.schedules.create({ destination: `${p.dest.url}/cron`, cron: "* * * * *", scheduleId: "every-minute" });
    await clock.advance(61_000);
    await client.schedules.pause({ schedule: "every-minute" });
    await client.queue({ queueName: "q" }).upsert({ parallelism: 2, paused: true });
    await client.queue({ queueName: "q" }).enqueue({ url: `${p.dest.url}/q`, body: "q" });
    await client.urlGroups.addEndpoints({ name: "g", endpoints: [{ url: `${p.dest.url}/g1` }, { url: `${p.dest.url}/g2` }] });
    await client.urlGroups.removeEndpoints({ name: "g", endpoints: [{ url: `${p.dest.url}/g1` }] });
    await client.flowControl.pin("fk", { parallelism: 2 });
    await same();
    await client.messages.cancel(later.messageId);
    const [first] = (await client.dlq.listMessages()).messages;
    await client.dlq.delete(first!.dlqId);
    await same();
    expect(server.state.dlq).toHaveLength(1);
    expect(Object.keys(server.state.schedules)).toEqual(["every-minute"]);

    // Appended, never rewritten: the snapshot written at start-up is untouched until compaction.
    expect(statSync(file).mtimeMs).toBe(snapshot.mtimeMs);
    expect(statSync(`${file}.journal`).size).toBeGreaterThan(0);
  });

  it("a restart replays the journal, compacts it, and delivers what was pending", async () => {
    const file = join(p.dir, "restart", "qstash.json");
    const a = await start(file);
    const { messageId } = await a.client.publish({ url: `${p.dest.url}/after-restart`, body: "kept", delay: "1m" });
    await turn();
    // A crash: the files as they are, the server never closed cleanly (close would compact).
    const crashed = readFileSync(`${file}.journal`, "utf8");
    const snapshot = readFileSync(file, "utf8");
    await a.server.close();
    p.servers.length = 0;
    writeFileSync(file, snapshot);
    writeFileSync(`${file}.journal`, crashed);

    const b = await start(file);
    expect(readFileSync(`${file}.journal`, "utf8")).toBe("");
    expect(Object.keys(b.server.state.messages)).toEqual([messageId]);
    const before = p.dest.received.length;
    await clock.advance(60_000);
    expect(p.dest.received.slice(before).map((r) => [r.path, r.text])).toEqual([["/after-restart", "kept"]]);
    await b.server.close();
    p.servers.length = 0;
    expect(existsSync(`${file}.journal`)).toBe(false);
  });

  it("drops a last line cut short by a crash, and refuses a broken line before the end", async () => {
    const file = join(p.dir, "torn", "qstash.json");
    const a = await start(file);
    const { messageId } = await a.client.publish({ url: `${p.dest.url}/x`, body: "x", delay: "1h" });
    await turn();
    const journal = readFileSync(`${file}.journal`, "utf8");
    appendFileSync(`${file}.journal`, '{"seq":99,"put":{"messages":{"msg_torn"');
    expect(Object.keys(loadState(file).messages)).toEqual([messageId]);
    writeFileSync(`${file}.journal`, `{"seq":1,\n${journal}`);
    expect(() => loadState(file)).toThrow(/journal .* line 1 is not valid JSON/);
  });

  it("ticks missed while the server was down are skipped, not replayed: the next one fires on time", async () => {
    const file = join(p.dir, "missed", "qstash.json");
    const a = await start(file);
    await a.client.schedules.create({ destination: `${p.dest.url}/tick`, cron: "*/5 * * * *", scheduleId: "five" });
    await a.server.close();
    p.servers.length = 0;
    // Down for an hour: twelve ticks pass with no server.
    await clock.advance(60 * 60_000);
    const down = clock.now();
    const before = p.dest.received.length;
    const b = await start(file);
    await clock.settle();
    expect(p.dest.received.length).toBe(before);
    const next = Math.ceil((down + 1) / 300_000) * 300_000;
    expect((await b.client.schedules.get("five")).nextScheduleTime).toBe(next);
    await clock.advance(next - clock.now());
    expect(p.dest.received.slice(before).map((r) => [r.path, r.at])).toEqual([["/tick", next]]);
  });
});
