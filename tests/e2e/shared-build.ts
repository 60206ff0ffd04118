import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildNext } from "./support";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The one production build a test run's suites share (production boot, ops console, fault suite). */
export const SHARED_DIST = ".next-shared";
const DIST = path.join(ROOT, SHARED_DIST);
const STAMP = path.join(DIST, "SOURCE_HASH");
const LOCK = path.join(ROOT, `${SHARED_DIST}.lock`);
const OWNER = path.join(LOCK, "pid");

// What the app cannot import: tests and their configs, docs, benchmarks, output and installed
// packages (the lockfile stands for those). Skipped by name at any depth, so products/*/tests too.
const SKIP = /^(node_modules|\.next.*|\.data|\.git|\.faults-out|\.ci|test-results|coverage|tests|docs|bench|vitest\..*|next-env\.d\.ts|.*\.tsbuildinfo|.*\.md)$/;

/** A hash of every file the build can read, and of the Node that builds it. */
export function sourceHash(): string {
  const hash = createHash("sha256").update(process.version);
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (SKIP.test(name)) continue;
      const file = path.join(dir, name);
      const st = statSync(file);
      if (st.isDirectory()) walk(file);
      else if (st.isFile()) hash.update(`${path.relative(ROOT, file)}\0`).update(readFileSync(file)).update("\0");
    }
  };
  walk(ROOT);
  return hash.digest("hex");
}

const builtFor = (key: string) => existsSync(path.join(DIST, "BUILD_ID")) && existsSync(STAMP) && readFileSync(STAMP, "utf8") === key;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** mkdir is atomic: exactly one process gets the lock. A lock whose owner died is taken over. */
function tryLock(): boolean {
  try {
    mkdirSync(LOCK);
    writeFileSync(OWNER, String(process.pid));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  let owner = NaN;
  try {
    owner = Number(readFileSync(OWNER, "utf8"));
  } catch {
    // Taken a moment ago, its pid not written yet; or released just now.
  }
  const young = (() => {
    try {
      return Date.now() - statSync(LOCK).mtimeMs < 10_000;
    } catch {
      return false;
    }
  })();
  if ((Number.isNaN(owner) && !young) || (!Number.isNaN(owner) && !alive(owner))) rmSync(LOCK, { recursive: true, force: true });
  return false;
}

/**
 * `next build` of this checkout, once per test run and source state: the first caller builds it (as
 * buildNext does, with no deployment env), every other caller, in any worker or suite, waits for
 * that build and reuses it. A source change (or a build killed halfway) makes the next caller build
 * again. Returns the dist dir to give startNextProduction.
 */
export async function sharedBuild({ timeoutMs = 600_000 } = {}): Promise<string> {
  const key = sourceHash();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (builtFor(key)) return SHARED_DIST;
    if (tryLock()) {
      try {
        if (!builtFor(key)) {
          // next build empties the folder but for its cache (Turbopack's, which makes a rebuild
          // after a small change quicker); the stamp goes first, so a build killed halfway is no build.
          rmSync(STAMP, { force: true });
          // Each waiting suite and worker would fail without it: give it the time a loaded machine needs.
          buildNext(SHARED_DIST, {}, 540_000);
          writeFileSync(STAMP, key);
        }
      } finally {
        rmSync(LOCK, { recursive: true, force: true });
      }
      return SHARED_DIST;
    }
    if (Date.now() > deadline) {
      throw new Error(`no shared build after ${timeoutMs / 1000} s: ${LOCK} is held by another test run's build; let it finish, or remove the folder if no test runs`);
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}
