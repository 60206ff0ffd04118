import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readVercelCrons, startVercelCronTicker, type VercelCronTicker } from "../../dev/vercel-cron";

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

let server: Server;
let appUrl: string;
let received: Received[] = [];
let answer: { status: number; headers?: Record<string, string> } = { status: 200 };
const tickers: VercelCronTicker[] = [];
let dir: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    res.writeHead(answer.status, answer.headers).end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), "vercel-cron-"));
});
afterEach(() => {
  for (const t of tickers.splice(0)) t.stop();
  received = [];
  answer = { status: 200 };
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

function ticker(opts: { cronSecret?: string; crons?: { path: string; schedule: string }[]; log?: (line: string) => void }) {
  const t = startVercelCronTicker({ appUrl, crons: [], log: () => {}, ...opts });
  tickers.push(t);
  return t;
}

describe("fire", () => {
  it("sends GET with Vercel's user agent and the Bearer CRON_SECRET", async () => {
    const res = await ticker({ cronSecret: "local-cron-secret-0123456789" }).fire("/api/cron/keep-alive");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok");
    expect(received).toHaveLength(1);
    expect(received[0]!.method).toBe("GET");
    expect(received[0]!.url).toBe("/api/cron/keep-alive");
    expect(received[0]!.headers["user-agent"]).toBe("vercel-cron/1.0");
    expect(received[0]!.headers.authorization).toBe("Bearer local-cron-secret-0123456789");
  });

  it("sends no Authorization at all when the secret is unset or empty", async () => {
    await (await ticker({}).fire("/api/cron/keep-alive")).text();
    await (await ticker({ cronSecret: "" }).fire("/api/cron/keep-alive")).text();
    expect(received).toHaveLength(2);
    for (const r of received) {
      expect(r.headers.authorization).toBeUndefined();
      expect(r.headers["user-agent"]).toBe("vercel-cron/1.0");
    }
  });

  it("neither follows redirects nor retries failures", async () => {
    answer = { status: 307, headers: { location: "/elsewhere" } };
    const redirected = await ticker({ cronSecret: "s3cret-s3cret-s3cret" }).fire("/api/cron/keep-alive");
    expect(redirected.status).toBe(307);
    expect(redirected.headers.get("location")).toBe("/elsewhere");

    answer = { status: 500 };
    const lines: string[] = [];
    const t = ticker({ cronSecret: "s3cret-s3cret-s3cret", crons: [{ path: "/api/cron/keep-alive", schedule: "0 6 * * *" }], log: (l) => lines.push(l) });
    await t.jobs[0]!.cron.trigger(); // the scheduled path, run now instead of at 06:00
    expect(received.map((r) => r.url)).toEqual(["/api/cron/keep-alive", "/api/cron/keep-alive"]);
    expect(lines.at(-1)).toMatch(/^vercel-cron GET \/api\/cron\/keep-alive -> 500 in \d+ ms$/);
  });

  it("logs a tick that cannot reach the app and does not throw", async () => {
    const lines: string[] = [];
    const t = startVercelCronTicker({ appUrl: "http://127.0.0.1:1", crons: [{ path: "/api/cron/keep-alive", schedule: "0 6 * * *" }], log: (l) => lines.push(l) });
    tickers.push(t);
    await t.jobs[0]!.cron.trigger();
    expect(lines.at(-1)).toMatch(/^vercel-cron GET \/api\/cron\/keep-alive -> failed: .*Vercel does not retry/);
  });
});

describe("schedule", () => {
  it("registers each cron with croner in UTC, five fields, at the right next time", () => {
    const t = ticker({
      crons: [
        { path: "/api/cron/keep-alive", schedule: "0 6 * * *" },
        { path: "/api/cron/quarter", schedule: "*/15 * * * *" },
        { path: "/api/cron/monday", schedule: "30 6 * * 1" },
      ],
    });
    const [daily, quarter, monday] = t.jobs;
    expect(daily!.cron.getPattern()).toBe("0 6 * * *");
    expect(daily!.cron.nextRun(new Date("2026-11-22T05:59:59Z"))).toEqual(new Date("2026-11-22T06:00:00Z"));
    expect(daily!.cron.nextRun(new Date("2026-11-22T06:00:00Z"))).toEqual(new Date("2026-11-23T06:00:00Z"));
    expect(quarter!.cron.nextRun(new Date("2026-11-22T10:07:30Z"))).toEqual(new Date("2026-11-22T10:15:00Z"));
    // 2026-11-22 is a Sunday.
    expect(monday!.cron.nextRun(new Date("2026-11-22T12:00:00Z"))).toEqual(new Date("2026-11-23T06:30:00Z"));

    // The timer is armed for the next 06:00 UTC from now, whatever the machine's zone.
    const now = new Date();
    const today6 = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 6);
    const expected = today6 > now.getTime() ? today6 : today6 + 24 * 3600_000;
    expect(daily!.cron.nextRun()?.getTime()).toBe(expected);
    expect(daily!.cron.isRunning()).toBe(true);

    t.stop();
    expect(t.jobs.every((j) => j.cron.isStopped())).toBe(true);
    expect(received).toHaveLength(0);
  });

  it("rejects a schedule Vercel would not accept, naming the entry", () => {
    expect(() => ticker({ crons: [{ path: "/a", schedule: "0 0 6 * * *" }] })).toThrow(/^crons\[0\]\.schedule "0 0 6 \* \* \*" is not a cron expression Vercel accepts/);
  });
});

describe("readVercelCrons", () => {
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it("reads the project's vercel.json", () => {
    expect(readVercelCrons()).toEqual([{ path: "/api/cron/keep-alive", schedule: "0 6 * * *" }]);
  });

  it("reads crons and treats a file without crons as none", () => {
    const crons = [
      { path: "/api/cron/a", schedule: "0 6 * * *" },
      { path: "/api/cron/b", schedule: "*/10 * * * *" },
    ];
    expect(readVercelCrons(write("ok.json", JSON.stringify({ crons, regions: ["iad1"] })))).toEqual(crons);
    expect(readVercelCrons(write("none.json", "{}"))).toEqual([]);
  });

  it("says what is wrong with a malformed file", () => {
    const bad = (text: string) => () => readVercelCrons(write("bad.json", text));
    expect(bad('{"crons": [')).toThrow(/bad\.json: not valid JSON/);
    expect(bad("[]")).toThrow(/bad\.json: expected a JSON object/);
    expect(bad('{"crons": {"path": "/a"}}')).toThrow(/bad\.json: "crons" must be an array/);
    expect(bad('{"crons": [{"schedule": "0 6 * * *"}]}')).toThrow(/bad\.json: crons\[0\]\.path must be a string starting with "\/"/);
    expect(bad('{"crons": [{"path": "api/x", "schedule": "0 6 * * *"}]}')).toThrow(/crons\[0\]\.path must be/);
    expect(bad('{"crons": [{"path": "/a", "schedule": "0 6 * * *"}, {"path": "/b"}]}')).toThrow(/crons\[1\]\.schedule must be a cron string/);
    expect(bad('{"crons": [{"path": "/a", "schedule": "0 6 * *"}]}')).toThrow(/crons\[0\]\.schedule "0 6 \* \*" must have five fields/);
    expect(bad('{"crons": [{"path": "/a", "schedule": "61 * * * *"}]}')).toThrow(/crons\[0\]\.schedule "61 \* \* \* \*" is not a cron expression Vercel accepts/);
    expect(() => readVercelCrons(join(dir, "missing.json"))).toThrow(/missing\.json: cannot read it/);
  });
});
