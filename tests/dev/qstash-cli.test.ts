import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");
const TSX = join(ROOT, "node_modules/.bin/tsx");

function run(args: string[]) {
  const child = spawn(TSX, ["dev/qstash/cli.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", () => {
      if (stdout.includes("\n")) resolve(stdout.split("\n")[0]!);
    });
    child.on("exit", () => reject(new Error(`exited before printing: ${stderr}`)));
  });
  firstLine.catch(() => {}); // only awaited by the test that expects a line
  return { child, exited, firstLine, output: () => ({ stdout, stderr }) };
}

let busy: Server;
let busyPort: number;
beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
  busyPort = (busy.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => busy.close(() => r())));

describe("cli", () => {
  it("prints one line with its URL and keys, serves the API, and stops on SIGTERM", async () => {
    const p = run(["--port", "0", "--memory", "--quiet"]);
    const line = await p.firstLine;
    const url = /at (http:\/\/127\.0\.0\.1:\d+) /.exec(line)?.[1];
    expect(url).toBeDefined();
    expect(line).toContain("QSTASH_TOKEN=eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=");
    expect(line).toContain("QSTASH_CURRENT_SIGNING_KEY=sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r");
    expect(line).toContain("QSTASH_NEXT_SIGNING_KEY=sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs");
    const keys = await fetch(`${url}/v2/keys`, { headers: { Authorization: "Bearer eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=" } });
    expect(await keys.json()).toEqual({ current: "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r", next: "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs" });
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });

  it("says clearly when the port is in use and exits 1", async () => {
    const p = run(["--port", String(busyPort), "--memory"]);
    expect(await p.exited).toBe(1);
    expect(p.output().stderr).toContain(`port ${busyPort} is in use: stop the other process or pass --port`);
  });

  it("--max-delay refuses a publish due further out, as the free plan does", async () => {
    const p = run(["--port", "0", "--memory", "--quiet", "--max-delay", "7d"]);
    const line = await p.firstLine;
    expect(line).toContain("(max delay 7d)");
    const url = /at (http:\/\/127\.0\.0\.1:\d+) /.exec(line)![1]!;
    const publish = (delay: string) =>
      fetch(`${url}/v2/publish/http://127.0.0.1:1/x`, { method: "POST", headers: { Authorization: "Bearer eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=", "Upstash-Delay": delay }, body: "{}" });
    const refused = await publish("8d");
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: "invalid delay: 8d is longer than the maximum delay of your plan, 7d" });
    expect((await publish("6d")).status).toBe(201);
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });

  it("refuses a --max-delay that is not a duration", async () => {
    const p = run(["--port", "0", "--memory", "--max-delay", "a week"]);
    expect(await p.exited).toBe(1);
    expect(p.output().stderr).toContain('--max-delay must be a duration such as 7d, 1y or 30m, got "a week"');
  });
});
