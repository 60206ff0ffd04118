import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../e2e/support";

/**
 * `pnpm test`'s first step (scripts/preflight.ts) with each system part hidden in turn: a port
 * nothing listens on instead of PostgreSQL or Redis, a PATH of stand-ins instead of the machine's
 * (no pg_ctlcluster, no redis-server, a recording apt-get), a CHROMIUM_PATH that is not there. The
 * machine's own PostgreSQL and Redis are left alone.
 */
const ROOT = path.resolve(".");
let dir: string;
let bin: string;
let closed: number;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "cronlayer-preflight-"));
  bin = path.join(dir, "bin");
  await mkdir(bin);
  await standIn("chromium-here", 'echo "Chromium 1.2.3 stand-in"');
  closed = await freePort();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function standIn(name: string, body: string, where = dir): Promise<string> {
  const file = path.join(where, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

/** The preflight as `pnpm test` runs it, with only the PATH and variables given. */
function preflight(env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), path.join(ROOT, "scripts/preflight.ts")],
      { cwd: ROOT, env: { NODE_ENV: "test", HOME: process.env.HOME ?? "/tmp", PATH: bin, CHROMIUM_PATH: path.join(dir, "chromium-here"), PREFLIGHT_NO_INSTALL: "1", ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

const realDb = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const realRedis = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const noDb = () => `postgres://postgres@127.0.0.1:${closed}/postgres`;
const noRedis = () => `redis://127.0.0.1:${closed}`;

describe("pnpm test's preflight", { timeout: 60_000 }, () => {
  it("passes and names each part when all three answer", async () => {
    const r = await preflight({ TEST_DATABASE_URL: realDb, TEST_REDIS_URL: realRedis });
    expect(r.out).toMatch(/PostgreSQL \d+/);
    expect(r.out).toMatch(/Redis \d+\.\d+/);
    expect(r.out).toContain("Chromium 1.2.3 stand-in");
    expect(r.code).toBe(0);
  });

  it.each([
    ["PostgreSQL", () => ({ TEST_DATABASE_URL: noDb() }), "postgresql"],
    ["Redis", () => ({ TEST_REDIS_URL: noRedis() }), "redis-server"],
    ["Chromium", () => ({ CHROMIUM_PATH: "/nonexistent/chromium" }), "chromium"],
  ])("stops at once with the one install command when %s is missing", async (name, hide, pkg) => {
    const r = await preflight({ TEST_DATABASE_URL: realDb, TEST_REDIS_URL: realRedis, ...hide() });
    expect(r.code).toBe(1);
    expect(r.out).toContain(`pnpm test needs ${name}, which is not installed on this machine. Install with:`);
    expect(r.out).toMatch(new RegExp(`^  sudo apt-get install -y ${pkg}$`, "m"));
  });

  it("names all the missing parts in one command", async () => {
    const r = await preflight({ TEST_DATABASE_URL: noDb(), TEST_REDIS_URL: noRedis(), CHROMIUM_PATH: "/nonexistent/chromium" });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^ {2}sudo apt-get install -y postgresql redis-server chromium$/m);
  });

  it("starts a Redis that is installed but stopped, on the port the tests use", async () => {
    const port = await freePort();
    const bin2 = path.join(dir, "bin-redis");
    await mkdir(bin2, { recursive: true });
    await symlink("/usr/bin/redis-server", path.join(bin2, "redis-server")).catch(() => {});
    const r = await preflight({ TEST_DATABASE_URL: realDb, TEST_REDIS_URL: `redis://127.0.0.1:${port}`, PATH: bin2 });
    const started = new IORedis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      expect(r.out).toMatch(/Redis \S+ at 127\.0\.0\.1:\d+ \(started\)/);
      expect(r.code).toBe(0);
    } finally {
      await started.connect().then(() => started.call("shutdown", "nosave")).catch(() => {});
      started.disconnect();
    }
  });

  it("says the one command that starts a PostgreSQL cluster that is installed but down", async () => {
    const bin3 = path.join(dir, "bin-pg");
    await mkdir(bin3, { recursive: true });
    await standIn("pg_ctlcluster", "exit 1", bin3);
    await standIn("pg_lsclusters", 'echo "15  main    5432 down   postgres /var/lib/postgresql/15/main /var/log/x.log"', bin3);
    const r = await preflight({ TEST_DATABASE_URL: noDb(), TEST_REDIS_URL: realRedis, PATH: bin3 });
    expect(r.code).toBe(1);
    expect(r.out).toContain("PostgreSQL is installed but does not answer");
    expect(r.out).toMatch(/^ {2}sudo pg_ctlcluster 15 main start$/m);
  });

  it.runIf(process.getuid?.() === 0)("as root (CI), installs what is missing with apt-get, then checks it", async () => {
    const bin4 = path.join(dir, "bin-root");
    await mkdir(bin4, { recursive: true });
    const chromium = path.join(dir, "installed-chromium");
    const log = path.join(dir, "apt.log");
    // The stand-in apt-get records its calls and "installs" Chromium where CHROMIUM_PATH says.
    await standIn("apt-get", `echo "$@" >> ${log}\nif [ "$1" = install ]; then printf '#!/bin/sh\\necho Chromium 9.9 installed\\n' > ${chromium}; /bin/chmod +x ${chromium}; fi`, bin4);
    const r = await preflight({ TEST_DATABASE_URL: realDb, TEST_REDIS_URL: realRedis, CHROMIUM_PATH: chromium, PATH: bin4, PREFLIGHT_NO_INSTALL: "" });
    expect(r.out).toContain("installing chromium (apt-get, as root)");
    expect(r.out).toContain("Chromium 9.9 installed");
    expect(r.code).toBe(0);
    expect((await readFile(log, "utf8")).trim().split("\n")).toEqual(["update -qq", "install -y -qq chromium"]);
  });
});
