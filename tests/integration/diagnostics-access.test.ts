import { describe, expect, it, vi } from "vitest";
import { createLogger } from "../../lib/log";
import { diagnosticsRoute } from "../../lib/http/diagnostics-route";
import { resendFailing } from "../mocks/resend";
import { server } from "../mocks/server";
import { APP_URL, call, deps, get, qstash, qstashUrl, route, SECRET, useDiagnosticsRig } from "./diagnostics/rig";

/** Who gets what from GET /api/diagnostics: the secret's holder, anonymous callers, one component, a broken configuration. */
useDiagnosticsRig();

describe("GET /api/diagnostics: who sees what", () => {
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
