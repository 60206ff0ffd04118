import { mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, closeSync } from "node:fs";
import path from "node:path";

/**
 * `.data/stack.json`: which process runs the local stack of this checkout, and how to reach it.
 * `pnpm dev` creates it exclusively before it opens anything in `.data` (a second `pnpm dev` in the
 * same checkout is refused, naming the first), fills in the parts' variables once they listen, and
 * removes it when it stops. The CLI reads it to find the running stack the same way every time.
 */
export interface StackRecord {
  pid: number;
  startedAt: string;
  /** What the banner prints: DATABASE_URL, QSTASH_URL and its keys, the Redis bridge, APP_URL. */
  env: Record<string, string>;
}

export const DATA_DIR = ".data";
const fileIn = (dir: string) => path.join(dir, "stack.json");

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, but another user's.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function read(dir: string): StackRecord | undefined {
  try {
    return JSON.parse(readFileSync(fileIn(dir), "utf8")) as StackRecord;
  } catch {
    return undefined;
  }
}

/** Claims `dir` for this process; throws naming the live process that holds it. A dead holder's claim is taken over. */
export function claimStack(dir = DATA_DIR, now = new Date()): { update(env: Record<string, string>): void; release(): void } {
  mkdirSync(dir, { recursive: true });
  const record: StackRecord = { pid: process.pid, startedAt: now.toISOString(), env: {} };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(fileIn(dir), "wx");
      writeFileSync(fd, JSON.stringify(record));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw err;
      const held = read(dir);
      if (held && held.pid !== process.pid && isAlive(held.pid)) {
        throw new Error(
          `${dir} is in use by another pnpm dev (pid ${held.pid}, started ${held.startedAt}${held.env.APP_URL ? `, app at ${held.env.APP_URL}` : ""}): ` +
            "stop it first (Ctrl-C in its terminal), or run the second stack from another checkout.",
        );
      }
      rmSync(fileIn(dir), { force: true }); // left by a stack that did not stop cleanly
    }
  }
  return {
    update(env) {
      const tmp = `${fileIn(dir)}.${process.pid}`;
      writeFileSync(tmp, JSON.stringify({ ...record, env }));
      renameSync(tmp, fileIn(dir));
    },
    release() {
      if (read(dir)?.pid === process.pid) rmSync(fileIn(dir), { force: true });
    },
  };
}

/** The stack running from `dir`, when its process is alive. */
export function runningStack(dir = DATA_DIR): StackRecord | undefined {
  const held = read(dir);
  return held && isAlive(held.pid) && Object.keys(held.env).length ? held : undefined;
}
