import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { portClashes } from "../../dev/stack";
import { withLocalStack } from "../../lib/cli/context";
import { claimStack, runningStack } from "../../lib/cli/local-stack";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), "stack-"));
  dirs.push(d);
  return d;
};
const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill();
});
/** A process that stays alive, and the pid of one that has exited. */
const alive = () => {
  const c = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
  children.push(c);
  return c.pid!;
};
const dead = () =>
  new Promise<number>((resolve) => {
    const c = spawn(process.execPath, ["-e", ""]);
    c.on("exit", () => resolve(c.pid!));
  });
const stackFile = (dir: string, pid: number, env: Record<string, string> = {}) =>
  writeFileSync(path.join(dir, "stack.json"), JSON.stringify({ pid, startedAt: "2026-11-30T10:00:00.000Z", env }));

describe("the local stack's claim on .data", () => {
  it("refuses a second stack while the first runs, naming its pid and app", () => {
    const dir = tempDir();
    const pid = alive();
    stackFile(dir, pid, { APP_URL: "http://localhost:3000" });
    expect(() => claimStack(dir)).toThrow(new RegExp(`in use by another pnpm dev \\(pid ${pid}, started 2026-11-30T10:00:00.000Z, app at http://localhost:3000\\)`));
    expect(JSON.parse(readFileSync(path.join(dir, "stack.json"), "utf8")).pid).toBe(pid);
  });

  it("takes over the claim of a stack that died without stopping, records its variables, and lets go on release", async () => {
    const dir = tempDir();
    stackFile(dir, await dead(), { DATABASE_URL: "postgres://old" });
    const claim = claimStack(dir);
    expect(runningStack(dir)).toBeUndefined(); // claimed, nothing listening yet
    claim.update({ DATABASE_URL: "postgres://postgres@127.0.0.1:54329/postgres", QSTASH_URL: "http://127.0.0.1:8080" });
    expect(runningStack(dir)).toMatchObject({ pid: process.pid, env: { DATABASE_URL: "postgres://postgres@127.0.0.1:54329/postgres" } });
    claim.release();
    expect(existsSync(path.join(dir, "stack.json"))).toBe(false);
  });

  it("does not report a stack whose process is gone", async () => {
    const dir = tempDir();
    stackFile(dir, await dead(), { DATABASE_URL: "postgres://gone" });
    expect(runningStack(dir)).toBeUndefined();
  });
});

describe("the CLI finds the running stack", () => {
  const stack = { pid: 1, startedAt: "", env: { DATABASE_URL: "postgres://postgres@127.0.0.1:54329/postgres", QSTASH_URL: "http://127.0.0.1:8081", APP_URL: "http://localhost:3001" } };
  it("takes the stack's variables in local mode, those already set winning", () => {
    const notes: string[] = [];
    const env = withLocalStack({ APP_ENV: "local", QSTASH_URL: "http://127.0.0.1:9999", LOG_LEVEL: undefined }, stack, (l) => notes.push(l));
    expect(env).toMatchObject({ DATABASE_URL: stack.env.DATABASE_URL, QSTASH_URL: "http://127.0.0.1:9999", APP_URL: "http://localhost:3001" });
    expect(notes).toEqual([]);
  });

  it("says plainly that no stack is running and which database it uses instead", () => {
    const notes: string[] = [];
    expect(withLocalStack({ APP_ENV: "local" }, undefined, (l) => notes.push(l))).toEqual({ APP_ENV: "local" });
    expect(notes).toEqual([expect.stringMatching(/^no local stack is running \(pnpm dev\); using postgres:\/\/postgres@127\.0\.0\.1:5432\/postgres\. Start pnpm dev, or set DATABASE_URL\.$/)]);
  });

  it("leaves a database that is set, and every other mode, alone", () => {
    const note = () => {
      throw new Error("no note expected");
    };
    expect(withLocalStack({ APP_ENV: "local", DATABASE_URL: "postgres://mine" }, stack, note)).toEqual({ APP_ENV: "local", DATABASE_URL: "postgres://mine" });
    expect(withLocalStack({ APP_ENV: "production" }, stack, note)).toEqual({ APP_ENV: "production" });
  });
});

describe("port clashes", () => {
  it("names every port that is taken, in one list", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const port = (busy.address() as { port: number }).port;
    try {
      const clashes = await portClashes([
        { port, variable: "QSTASH_PORT" },
        { port: 0, variable: "PORT" },
      ]);
      expect(clashes).toEqual([{ port, variable: "QSTASH_PORT" }]);
    } finally {
      busy.close();
    }
  });
});
