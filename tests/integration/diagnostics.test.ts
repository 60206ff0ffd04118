import { createServer, type Server } from "node:http";
import postgres from "postgres";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { startRedisBridge } from "../../dev/redis-bridge/server";
import { createDeps } from "../../lib/deps";
import { loadEnv } from "../../lib/env";
import { createLogger } from "../../lib/log";
import { diagnosticsRoute, type DiagnosticsOptions } from "../../lib/http/diagnostics-route";
import { defineJob } from "../../lib/jobs/define";
import { createRegistry } from "../../lib/jobs/registry";
import type { RunDeps } from "../../lib/jobs/run";
import type { ScheduleEntry } from "../../lib/jobs/schedules";
import { NOVU_KEY, novuFailing, novuHandlers } from "../mocks/novu";
import { RESEND_KEYS, resendFailing, resendHandlers, resendUnreachable } from "../mocks/resend";
import { server } from "../mocks/server";
import { testDatabaseUrl } from "../support/db";

const APP_URL = "https://jobs.example.test";
const SECRET = "diagnostics-secret-0123456789";
const QSTASH_TOKEN = "qstash-test-token-diagnostics";

const jobs = ["sync-a", "sync-b", "nightly", "keep-alive"].map((name) => defineJob({ name, description: "t", handler: async () => ({}) }));
const entries: ScheduleEntry[] = [
  { job: "sync-a", cron: "*/5 * * * *" },
  // Zoned: QStash holds it as a UTC cron (India keeps one offset, so one cron all year).
  { job: "sync-b", cron: "CRON_TZ=Asia/Kolkata 0 9 * * *" },
  { job: "nightly", cron: "0 2 * * *" },
  // Fired by Vercel, not QStash: never expected in QStash.
  { job: "keep-alive", cron: "0 6 * * *", via: "vercel" },
];
const registry = createRegistry(jobs, entries);

type Live = { scheduleId: string; cron: string; destination: string; isPaused?: boolean };
const live = (job: string, cron: string, extra: Partial<Live> = {}): Live => ({ scheduleId: `test-${job}`, cron, destination: `${APP_URL}/api/cron/${job}`, ...extra });
const inSync = (): Live[] => [live("sync-a", "*/5 * * * *"), live("sync-b", "30 3 * * *"), live("nightly", "0 2 * * *")];

/**
 * A QStash stand-in that answers `GET /v2/schedules` with the wire shape of QSTASH-WIRE.md. Used
 * because dev/qstash/server.ts (the project's local QStash) did not exist yet when this was written.
 */
function fakeQStash() {
  const state = { schedules: [] as Live[], requests: 0 };
  const srv = createServer((req, res) => {
    state.requests++;
    const send = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.headers.authorization !== `Bearer ${QSTASH_TOKEN}`) return send(401, { error: "unauthorized" });
    if (req.method === "GET" && req.url === "/v2/schedules") {
      return send(
        200,
        state.schedules.map((s) => ({ createdAt: 1763800000000, method: "POST", header: { "Content-Type": ["application/json"] }, body: "{}", retries: 3, delay: 0, isPaused: false, ...s })),
      );
    }
    return send(404, { error: "not found" });
  });
  return { state, srv };
}

const qstash = fakeQStash();
let qstashUrl = "";
/** Accepts connections and never answers: a hung dependency. */
const hung = createServer(() => {});
let hungUrl = "";
/**
 * A port nothing listens on. Not 1: fetch refuses port 1 itself ("bad port", a blocked port in the
 * Fetch standard), which would test undici rather than a dead service.
 */
let closedUrl = "";
const opened: RunDeps[] = [];

const listen = async (s: Server) => {
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  qstashUrl = await listen(qstash.srv);
  hungUrl = await listen(hung);
  const probe = createServer();
  closedUrl = await listen(probe);
  await new Promise((r) => probe.close(r));
});
afterAll(async () => {
  await Promise.all(opened.map((d) => d.db.close()));
  hung.closeAllConnections();
  await Promise.all([qstash.srv, hung].map((s) => new Promise((r) => s.close(r))));
});
beforeEach(() => {
  qstash.state.schedules = inSync();
  qstash.state.requests = 0;
  server.use(...resendHandlers, ...novuHandlers);
});

function deps(overrides: Record<string, string | undefined> = {}): RunDeps {
  const env = loadEnv({
    APP_ENV: "test",
    APP_URL,
    QSTASH_URL: qstashUrl,
    QSTASH_TOKEN,
    CRON_SECRET: SECRET,
    SCHEDULE_PREFIX: "test",
    DATABASE_URL: testDatabaseUrl(),
    RESEND_API_KEY: RESEND_KEYS.full,
    NOVU_API_KEY: NOVU_KEY,
    ...overrides,
  });
  const d = createDeps(env, registry);
  opened.push(d);
  return d;
}

function route(d: RunDeps, opts: DiagnosticsOptions = {}) {
  return diagnosticsRoute(async () => d, { publicCacheMs: 0, ...opts }).GET;
}

/** `auth: null` sends no Authorization header at all. */
const get = (query = "", auth: string | null = `Bearer ${SECRET}`) =>
  new Request(`http://127.0.0.1:3000/api/diagnostics${query}`, { headers: auth === null ? {} : { authorization: auth } });

async function call(handler: (r: Request) => Promise<Response>, req: Request) {
  const res = await handler(req);
  return { status: res.status, cache: res.headers.get("cache-control"), body: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe("GET /api/diagnostics", () => {
  it("reports every component to the holder of CRON_SECRET, 200 when all configured ones are ok", async () => {
    const before = Date.now();
    const { status, cache, body } = await call(route(deps()), get());
    expect(status).toBe(200);
    expect(cache).toBe("no-store");
    expect(Object.keys(body).sort()).toEqual(["appUrl", "checkedAt", "components", "mode", "providers", "status"]);
    expect(body).toMatchObject({ status: "ok", mode: "test", appUrl: APP_URL });
    expect(Date.parse(body.checkedAt)).toBeGreaterThanOrEqual(before - 1000);
    const c = body.components;
    expect(Object.keys(c).sort()).toEqual(["database", "novu", "qstash", "redis", "resend", "schedules"]);
    expect(c.database).toMatchObject({ status: "ok", message: "postgres: cronlayer_ping answered" });
    expect(c.redis).toEqual({ status: "not_configured", latencyMs: null, message: "UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN are not set" });
    expect(c.qstash).toMatchObject({ status: "ok", message: `authenticated at ${qstashUrl}; it holds 3 schedules` });
    expect(c.schedules).toMatchObject({ status: "ok", message: 'all 3 schedules with prefix "test-" match config/qstash.ts' });
    expect(c.schedules.details).toEqual({ prefix: "test", expected: 3, missing: [], drifted: [], extra: [], matching: 3 });
    expect(c.resend).toMatchObject({ status: "ok", message: "Resend accepted the key (GET /domains: HTTP 200)" });
    expect(c.novu).toMatchObject({ status: "ok", message: "Novu accepted the key (GET /v1/environments/me: HTTP 200)" });
    for (const name of ["database", "qstash", "schedules", "resend", "novu"]) {
      expect(c[name].latencyMs, name).toEqual(expect.any(Number));
      expect(c[name].latencyMs, name).toBeLessThan(3000);
    }
    // One list call serves both the qstash and the schedules check.
    expect(qstash.state.requests).toBe(1);
  });

  it("answers only {status} without an Authorization header, whatever component is asked for", async () => {
    const handler = route(deps());
    expect(await call(handler, get("", null))).toEqual({ status: 200, cache: "no-store", body: { status: "ok" } });
    expect(await call(handler, get("?component=database", null))).toEqual({ status: 200, cache: "no-store", body: { status: "ok" } });
    expect(await call(handler, get("?component=nonsense", null))).toEqual({ status: 200, cache: "no-store", body: { status: "ok" } });
  });

  it("answers a wrong or malformed secret with 401, as the job routes do, and logs it", async () => {
    const lines: string[] = [];
    const logged = { ...deps(), log: createLogger("warn", {}, (line) => lines.push(line)) };
    const handler = route(logged);
    for (const auth of ["Bearer wrong-secret-0123456789", `bearer ${SECRET}`, `Bearer ${SECRET}x`, SECRET]) {
      const r = await call(handler, get("?component=database", auth));
      expect(r.status, auth).toBe(401);
      expect(r.body, auth).toEqual({ error: "wrong Bearer secret" });
    }
    expect(lines.filter((l) => l.includes('"auth.rejected"') && l.includes('"route":"diagnostics"'))).toHaveLength(4);
    const noSecret = route(deps({ CRON_SECRET: undefined }));
    for (const auth of ["Bearer undefined", "Bearer ", `Bearer ${SECRET}`]) {
      const r = await call(noSecret, get("", auth));
      expect(r.status, auth).toBe(401);
      expect(r.body, auth).toEqual({ error: "Bearer authentication is disabled: CRON_SECRET is not set" });
    }
  });

  it("gives anonymous callers 503 and only the overall status when something is wrong, even for a healthy component", async () => {
    server.use(resendFailing(500));
    expect(await call(route(deps()), get("", null))).toEqual({ status: 503, cache: "no-store", body: { status: "degraded" } });
    // Asking for one component anonymously cannot probe it: the answer is still the overall one.
    expect(await call(route(deps()), get("?component=database", null))).toEqual({ status: 503, cache: "no-store", body: { status: "degraded" } });
  });

  it("reuses an anonymous answer for a few seconds, so the public endpoint cannot spend our vendor limits", async () => {
    const handler = diagnosticsRoute(async () => deps(), { publicCacheMs: 60_000 }).GET;
    await Promise.all([1, 2, 3].map(() => call(handler, get("", null))));
    await call(handler, get("", null));
    expect(qstash.state.requests).toBe(1);
    // The holder of the secret always gets a fresh report.
    await call(handler, get());
    expect(qstash.state.requests).toBe(2);
  });

  it("checks one component with ?component=", async () => {
    const handler = route(deps());
    const db = await call(handler, get("?component=database"));
    expect(db.status).toBe(200);
    expect(Object.keys(db.body.components)).toEqual(["database"]);
    expect(db.body.components.database.status).toBe("ok");
    const sched = await call(handler, get("?component=schedules"));
    expect(Object.keys(sched.body.components)).toEqual(["schedules"]);
    expect(sched.body.components.schedules.status).toBe("ok");
    // Anonymous callers may ask for one component too, and still get only its status.
    expect((await call(handler, get("?component=redis", null))).body).toEqual({ status: "ok" });
  });

  it("rejects an unknown component with 400 naming the valid ones", async () => {
    for (const q of ["?component=postgres", "?component="]) {
      const { status, body } = await call(route(deps()), get(q));
      expect(status, q).toBe(400);
      expect(body.error).toBe(`unknown component "${q.slice(11)}": use one of database, redis, qstash, schedules, novu, resend`);
      expect(body.components).toEqual(["database", "redis", "qstash", "schedules", "novu", "resend"]);
    }
  });

  it("reports the database down with 503 and what to check, without the password", async () => {
    const { status, body } = await call(route(deps({ DATABASE_URL: "postgres://postgres:s3cret-pw@127.0.0.1:1/x" })), get());
    expect(status).toBe(503);
    expect(body.status).toBe("down");
    expect(body.components.database.status).toBe("down");
    expect(body.components.database.message).toMatch(/^database call cronlayer_ping failed: .*ECONNREFUSED 127\.0\.0\.1:1/);
    expect(body.components.database.message).toContain("Adapter postgres: check DATABASE_URL (host 127.0.0.1:1)");
    expect(JSON.stringify(body)).not.toContain("s3cret-pw");
    // The rest still answers.
    expect(body.components.qstash.status).toBe("ok");
  });

  it("tells an unmigrated database from an unreachable one", async () => {
    // A database of its own that no migration has touched.
    const unmigrated = new URL(testDatabaseUrl());
    unmigrated.pathname = `${unmigrated.pathname}_empty`;
    const admin = postgres(testDatabaseUrl(), { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${unmigrated.pathname.slice(1)} template template0`);
    try {
      const { body } = await call(route(deps({ DATABASE_URL: unmigrated.toString() })), get("?component=database"));
      expect(body.components.database).toMatchObject({
        status: "down",
        message:
          "database call cronlayer_ping failed: function public.cronlayer_ping() does not exist. The database answers but has no cronlayer_ping function: apply the migrations (pnpm db:migrate, or supabase db push).",
      });
    } finally {
      await Promise.all(opened.splice(0).map((d) => d.db.close()));
      await admin.unsafe(`drop database if exists ${unmigrated.pathname.slice(1)} with (force)`);
      await admin.end();
    }
  });

  it("names the supabase adapter when that is what fails", async () => {
    const { body } = await call(route(deps({ SUPABASE_URL: closedUrl, SUPABASE_SERVICE_ROLE_KEY: "service-role-key" })), get("?component=database"));
    expect(body.status).toBe("down");
    expect(body.components.database.status).toBe("down");
    expect(body.components.database.message).toContain(`Adapter supabase: check SUPABASE_URL (${closedUrl}) and SUPABASE_SERVICE_ROLE_KEY`);
  });

  it("pings Redis through the local REST bridge on the real Redis", async () => {
    const bridge = await startRedisBridge({ redisUrl: inject("redisUrl"), token: "bridge-token" });
    try {
      const { status, body } = await call(route(deps({ UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: "bridge-token" })), get());
      expect(status).toBe(200);
      expect(body.components.redis).toMatchObject({ status: "ok", message: "PING answered PONG", latencyMs: expect.any(Number) });
      const wrong = await call(route(deps({ UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: "wrong" })), get("?component=redis"));
      expect(wrong.status).toBe(503);
      expect(wrong.body.components.redis.status).toBe("down");
      expect(wrong.body.components.redis.message).toMatch(/^Unauthorized/);
      expect(wrong.body.components.redis.message).toContain(`Check UPSTASH_REDIS_REST_URL (${bridge.url}) and UPSTASH_REDIS_REST_TOKEN`);
    } finally {
      await bridge.close();
    }
  });

  it("reports Redis down when its REST URL does not answer: degraded, not down", async () => {
    const { status, body } = await call(route(deps({ UPSTASH_REDIS_REST_URL: closedUrl, UPSTASH_REDIS_REST_TOKEN: "t" })), get());
    expect(status).toBe(503);
    expect(body.status).toBe("degraded");
    expect(body.components.redis.status).toBe("down");
    expect(body.components.redis.message).toContain(`Check UPSTASH_REDIS_REST_URL (${closedUrl}) and UPSTASH_REDIS_REST_TOKEN`);
    expect(body.components.redis.latencyMs).toEqual(expect.any(Number));
  });

  it("reports a rejected QStash token, and the schedules as unreadable", async () => {
    const { status, body } = await call(route(deps({ QSTASH_TOKEN: "not-the-token" })), get());
    expect(status).toBe(503);
    expect(body.status).toBe("down");
    expect(body.components.qstash.status).toBe("down");
    expect(body.components.qstash.message).toMatch(new RegExp(`^QSTASH_TOKEN rejected by ${qstashUrl} \\(HTTP 401: unauthorized\\)\\. Locally, QSTASH_TOKEN must be`));
    expect(body.components.schedules).toMatchObject({ status: "down" });
    expect(body.components.schedules.message).toContain("QSTASH_TOKEN rejected");
    expect(body.components.schedules.message).toContain("see the qstash component");
  });

  it("reports an unreachable QStash with the way to start the local one", async () => {
    const { body } = await call(route(deps({ QSTASH_URL: closedUrl })), get("?component=qstash"));
    expect(body.status).toBe("down");
    expect(body.components.qstash.message).toBe(
      `fetch failed: connect ECONNREFUSED ${closedUrl.slice(7)}. Nothing answers at QSTASH_URL ${closedUrl}: start the local server (pnpm qstash:dev, or pnpm dev).`,
    );
  });

  it("lists schedule drift: missing, changed cron, moved destination, paused, extra with our prefix; foreign ones ignored", async () => {
    qstash.state.schedules = [
      live("sync-a", "*/10 * * * *"),
      live("nightly", "0 2 * * *", { destination: "https://old.example.test/api/cron/nightly", isPaused: true }),
      live("retired-job", "0 * * * *"),
      { scheduleId: "staging-sync-a", cron: "* * * * *", destination: "https://staging.example.test/api/cron/sync-a" },
      { scheduleId: "scd_5Yp2n7", cron: "0 0 * * *", destination: "https://other-app.example.test/hook" },
      { scheduleId: "testing-sync-b", cron: "0 0 * * *", destination: "https://other-app.example.test/hook" },
    ];
    const { status, body } = await call(route(deps()), get("?component=schedules"));
    expect(status).toBe(503);
    expect(body.status).toBe("degraded");
    const s = body.components.schedules;
    expect(s.status).toBe("degraded");
    expect(s.details).toEqual({
      prefix: "test",
      expected: 3,
      matching: 0,
      missing: ["test-sync-b"],
      drifted: [
        { scheduleId: "test-sync-a", field: "cron", expected: "*/5 * * * *", actual: "*/10 * * * *" },
        { scheduleId: "test-nightly", field: "destination", expected: `${APP_URL}/api/cron/nightly`, actual: "https://old.example.test/api/cron/nightly" },
        { scheduleId: "test-nightly", field: "paused", expected: "active", actual: "paused" },
      ],
      extra: ["test-retired-job"],
    });
    expect(s.message).toBe(
      'missing in QStash: test-sync-b; test-sync-a drifted: cron is "*/10 * * * *", expected "*/5 * * * *"; ' +
        `test-nightly drifted: destination is "https://old.example.test/api/cron/nightly", expected "${APP_URL}/api/cron/nightly"; ` +
        'test-nightly drifted: paused is "paused", expected "active"; ' +
        'in QStash with prefix "test-" but not in config/qstash.ts: test-retired-job. Run pnpm qstash:schedule to reconcile.',
    );
  });

  it("tells a rejected vendor key from a sending-only key, an outage and a dead network", async () => {
    const handler = route(deps({ RESEND_API_KEY: "re_wrong_key", NOVU_API_KEY: "wrong" }));
    const rejected = await call(handler, get());
    expect(rejected.status).toBe(503);
    expect(rejected.body.status).toBe("degraded");
    expect(rejected.body.components.resend).toMatchObject({
      status: "down",
      message: "RESEND_API_KEY rejected by https://api.resend.com (HTTP 403: API key is invalid): key rejected. Create a new key in the Resend dashboard and set RESEND_API_KEY.",
    });
    expect(rejected.body.components.novu).toMatchObject({
      status: "down",
      message: "NOVU_API_KEY rejected by https://api.novu.co (HTTP 401: API Key not found): key rejected. Create a new key in the Novu dashboard and set NOVU_API_KEY.",
    });

    const sendingOnly = await call(route(deps({ RESEND_API_KEY: RESEND_KEYS.sendingOnly })), get("?component=resend"));
    expect(sendingOnly.status).toBe(200);
    expect(sendingOnly.body.components.resend.message).toBe("Resend accepted the key (a sending-only key: it may send, not list domains)");

    server.use(resendUnreachable(), novuFailing(503));
    const broken = await call(route(deps()), get());
    expect(broken.body.components.resend.status).toBe("down");
    expect(broken.body.components.resend.message).toContain("Check the network path to https://api.resend.com (RESEND_BASE_URL)");
    expect(broken.body.components.novu).toMatchObject({ status: "down", message: "Novu at https://api.novu.co is failing (HTTP 503: Service Unavailable); check the vendor's status page." });
  });

  it("reports vendors as not configured without their keys, which keeps 200", async () => {
    const { status, body } = await call(route(deps({ RESEND_API_KEY: undefined, NOVU_API_KEY: undefined })), get());
    expect(status).toBe(200);
    expect(body.components.resend).toEqual({ status: "not_configured", latencyMs: null, message: "RESEND_API_KEY is not set" });
    expect(body.components.novu).toEqual({ status: "not_configured", latencyMs: null, message: "NOVU_API_KEY is not set" });
  });

  it("does not hang on a component that never answers: it is down after its own deadline", async () => {
    const started = Date.now();
    const { status, body } = await call(route(deps({ NOVU_BASE_URL: hungUrl }), { timeoutMs: 400 }), get());
    expect(Date.now() - started).toBeLessThan(2000);
    expect(status).toBe(503);
    expect(body.components.novu.status).toBe("down");
    expect(body.components.novu.message).toBe(`no answer within 400 ms. Check the network path to ${hungUrl} (NOVU_BASE_URL; EU accounts use https://eu.api.novu.co).`);
    expect(body.components.novu.latencyMs).toBeGreaterThanOrEqual(390);
    expect(body.components.database.status).toBe("ok");
  });

  it("shows a job's effects by status and the ones that need a person, to the holder of the secret only", async () => {
    const db = postgres(testDatabaseUrl(), { max: 1, onnotice: () => {} });
    try {
      await db`insert into effects (key, job, status, attempts, next_attempt_at, last_error, updated_at) values
        ('n:1', 'nightly', 'succeeded', 1, null, null, now()), ('n:2', 'nightly', 'succeeded', 1, null, null, now()),
        ('n:3', 'nightly', 'failed', 2, '2031-01-01T10:00:00Z', 'HTTP 422', now()),
        ('n:4', 'nightly', 'unknown', 1, '2031-01-01T09:00:00Z', 'HTTP 504: gateway timeout', now()),
        ('s:1', 'sync-a', 'abandoned', 8, null, 'HTTP 400', now())`;
      const { status, body } = await call(route(deps()), get("?job=nightly"));
      expect(status).toBe(200);
      expect(body).toEqual({
        job: "nightly",
        effects: {
          counts: { succeeded: 2, failed: 1, unknown: 1 },
          attention: [{ key: "n:4", status: "unknown", attempts: 1, last_error: "HTTP 504: gateway timeout", updated_at: expect.any(String) }],
          next_attempt_at: "2031-01-01T09:00:00+00:00",
        },
      });
      expect(await call(route(deps()), get("?job=nightly", null))).toMatchObject({ body: { status: "ok" } });
      expect(await call(route(deps()), get("?job=nope"))).toMatchObject({ status: 400, body: { error: expect.stringContaining('unknown job "nope": use one of keep-alive, nightly') } });
    } finally {
      await db.end();
    }
  });

  it("answers 503 {status: down} when the configuration cannot load", async () => {
    const handler = diagnosticsRoute(async () => {
      throw new Error("Invalid configuration (1 problem)");
    }).GET;
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      expect(await call(handler, get())).toEqual({ status: 503, cache: "no-store", body: { status: "down" } });
      expect(logged).toHaveBeenCalledWith("diagnostics: configuration failed to load: Invalid configuration (1 problem)");
    } finally {
      logged.mockRestore();
    }
  });
});
