import postgres from "postgres";
import { describe, expect, inject, it } from "vitest";
import { startRedisBridge } from "../../dev/redis-bridge/server";
import { novuFailing } from "../mocks/novu";
import { RESEND_KEYS, resendUnreachable } from "../mocks/resend";
import { server } from "../mocks/server";
import { testDatabaseUrl } from "../support/db";
import { APP_URL, call, closedUrl, deps, get, hungUrl, live, opened, qstash, qstashUrl, route, useDiagnosticsRig } from "./diagnostics/rig";

/** Each component GET /api/diagnostics checks, healthy and failing in the ways people meet: database, Redis, QStash, schedules, vendors, a hang, effects. */
useDiagnosticsRig();

describe("GET /api/diagnostics: each component", () => {
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

});
