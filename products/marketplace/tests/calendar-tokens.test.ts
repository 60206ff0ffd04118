import { randomUUID } from "node:crypto";
import { http, HttpResponse } from "msw";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { startRedisBridge, type RedisBridge } from "../../../dev/redis-bridge/server";
import { createKeepAlive } from "../../../jobs/system/keep-alive";
import { jobRoute } from "@/lib/http/job-route";
import { createRegistry } from "@/lib/jobs/registry";
import { runJob } from "@/lib/jobs/run";
import { GOOGLE_CLIENT } from "../../../tests/mocks/google";
import { server } from "../../../tests/mocks/server";
import { bearerRequest, CRON_SECRET, params, sql, testDeps } from "../../../tests/support/app";
import { at, hours, insertExpert, VENDOR_ENV, vendors } from "../../../tests/support/vendors";
import marketplace from "../index";

// No watched schedules here: only the maintenance parts run, the marketplace's calendar tokens
// among them (its upkeep step, which keep-alive takes from the registry's products). Each test runs
// earlier than the one before, so a token one test leaves unrefreshed is never due in the next.
let clock = new Date("2037-06-01T06:00:00Z");
const keepAlive = createKeepAlive({ schedules: () => [], registry: async () => createRegistry([], [], [marketplace]) });
const deps = { ...testDeps([keepAlive], [{ job: "keep-alive", via: "vercel", cron: "0 6 * * *", overlap: "allow" }], VENDOR_ENV), clock: () => clock };
// QStash (the test env's, which nothing else here asks) holds an empty DLQ for keep-alive's reconciliation.
beforeEach(() => server.use(http.get(`${deps.env.qstash.url}/v2/dlq`, () => HttpResponse.json({ messages: [] }))));
// trigger "cli": a scheduled trigger would record a lag against the real clock, and these clocks are years ahead.
const run = () => runJob({ job: "keep-alive", payload: {}, trigger: "cli" }, deps);

async function connection(refreshToken: string, expiresAt: Date) {
  const expert = await insertExpert({ name: `Expert ${refreshToken}` });
  const [c] = await sql()`insert into calendar_connections (expert_id, access_token, refresh_token, expires_at) values (${expert.id}, 'ya29.old', ${refreshToken}, ${expiresAt}) returning id`;
  return { id: c!.id as string, expert };
}
const conn = async (id: string) =>
  (await sql()`select status, access_token, refresh_token, expires_at, refreshed_at, revoked_at from calendar_connections where id = ${id}`)[0]!;
/** A connection's token-refresh effects, oldest first: the attempts, the error, what Google answered. */
const refreshes = async (id: string) =>
  await sql()`select key, status, attempts, last_error, result from effects where subject = ${id} and key like 'token-refresh:%' order by created_at, key`;

describe("keep-alive: Google Calendar tokens", () => {
  it("refreshes tokens expiring within 24 h, marks a revoked grant for re-consent and tells the expert once", async () => {
    clock = new Date("2037-06-01T06:00:00Z");
    const tag = randomUUID().slice(0, 6);
    const calls = vendors({ google: { revoked: [`rt-z-${tag}`], rotate: [`rt-w-${tag}`] } });
    const x = await connection(`rt-x-${tag}`, at(clock, hours(2)));
    const y = await connection(`rt-y-${tag}`, at(clock, hours(30)));
    const z = await connection(`rt-z-${tag}`, at(clock, -hours(3)));
    const w = await connection(`rt-w-${tag}`, at(clock, hours(23)));

    const out = await run();
    expect(out).toMatchObject({ status: "succeeded", stats: { calendarTokens: { refreshed: 2, revoked: 1, failed: 0, notified: 1, noticesFailed: 0 }, alert: "none" } });
    expect(calls.google.map((c) => c.form.refresh_token).sort()).toEqual([`rt-w-${tag}`, `rt-x-${tag}`, `rt-z-${tag}`]);
    expect(calls.google[0]).toMatchObject({ url: "https://oauth2.googleapis.com/token", form: { grant_type: "refresh_token", client_id: GOOGLE_CLIENT.id, client_secret: GOOGLE_CLIENT.secret } });
    expect(await conn(x.id)).toMatchObject({ status: "active", access_token: `ya29.new-rt-x-${tag}`, expires_at: at(clock, 3_599_000), refreshed_at: clock });
    // Never refreshed before: the window is 0. The effect keeps what Google said, never a token.
    expect(await refreshes(x.id)).toEqual([
      { key: `token-refresh:${x.id}:0`, status: "succeeded", attempts: 1, last_error: null, result: { expires_at: at(clock, 3_599_000).toISOString(), scope: "https://www.googleapis.com/auth/calendar.events" } },
    ]);
    expect(await conn(w.id)).toMatchObject({ refresh_token: `rt-w-${tag}-rotated` });
    expect(JSON.stringify(await refreshes(w.id))).not.toMatch(/ya29|rt-w/);
    expect(await conn(y.id)).toMatchObject({ access_token: "ya29.old", refreshed_at: null });
    expect(await refreshes(y.id)).toEqual([]);
    expect(await conn(z.id)).toMatchObject({ status: "needs_reconsent", revoked_at: clock, access_token: "ya29.old" });
    expect(await refreshes(z.id)).toMatchObject([{ status: "succeeded", result: { revoked: true, reason: "invalid_grant: Token has been expired or revoked." } }]);

    const key = `reconsent:${z.id}:${clock.getTime() / 1000}`;
    expect(calls.resend).toMatchObject([{ idempotencyKey: key, body: { to: z.expert.email, subject: "Reconnect your Google Calendar" } }]);
    expect(calls.novu).toMatchObject([{ idempotencyKey: key, body: { name: "calendar-reconnect", to: { subscriberId: z.expert.id }, transactionId: key } }]);
    expect(await sql()`select job, subject, status, attempts from effects where key = ${key}`).toEqual([{ job: "keep-alive", subject: z.id, status: "succeeded", attempts: 1 }]);

    // A repeat: nothing is refreshed again, nobody is told twice.
    expect(await run()).toMatchObject({ status: "succeeded", stats: { calendarTokens: { refreshed: 0, revoked: 0, notified: 0 } } });
    expect(calls.google).toHaveLength(3);
    expect(calls.resend).toHaveLength(1);
  });

  it("tries a re-consent notice that failed again on a later run, without refreshing the token again", async () => {
    clock = new Date("2037-05-15T06:00:00Z");
    const tag = randomUUID().slice(0, 6);
    const c = await connection(`rt-gone-${tag}`, at(clock, hours(1)));
    const key = `reconsent:${c.id}:${clock.getTime() / 1000}`;
    const notice = async () => await sql()`select job, status, attempts from effects where key = ${key}`;
    const calls = vendors({
      google: { revoked: [`rt-gone-${tag}`] },
      novu: { respond: (n) => (n.idempotencyKey === key ? HttpResponse.json({ statusCode: 500, message: "Internal server error" }, { status: 500 }) : undefined) },
    });
    expect(await run()).toMatchObject({ status: "succeeded", stats: { calendarTokens: { revoked: 1, notified: 0, noticesFailed: 1 }, alert: "email: sent; slack: sent" } });
    expect(calls.novu.map((n) => n.idempotencyKey)).toEqual([key]);
    expect(await notice()).toEqual([{ job: "keep-alive", status: "unknown", attempts: 1 }]);

    const later = vendors();
    clock = at(clock, hours(1));
    expect(await run()).toMatchObject({ status: "succeeded", stats: { calendarTokens: { refreshed: 0, revoked: 0, notified: 1, noticesFailed: 0 } } });
    expect(later.google).toEqual([]);
    expect(later.novu.map((n) => n.idempotencyKey)).toEqual([key]);
    expect(later.resend.map((e) => e.idempotencyKey)).toEqual([key]); // the same key: Resend drops the repeat
    expect(await notice()).toEqual([{ job: "keep-alive", status: "succeeded", attempts: 2 }]);
  });

  it("refreshes each token once when two runs race", async () => {
    clock = new Date("2037-05-01T06:00:00Z");
    const tag = randomUUID().slice(0, 6);
    const calls = vendors();
    const tokens = Array.from({ length: 8 }, (_, i) => `rt-race-${tag}-${i}`);
    for (const t of tokens) await connection(t, at(clock, hours(1)));
    const [a, b] = await Promise.all([run(), run()]);
    if (a.status !== "succeeded" || b.status !== "succeeded") throw new Error(`runs: ${a.status} ${b.status}`);
    const refreshed = (s: Record<string, unknown>) => (s.calendarTokens as { refreshed: number }).refreshed;
    expect(refreshed(a.stats) + refreshed(b.stats)).toBe(8);
    expect(calls.google.map((c) => c.form.refresh_token).sort()).toEqual(tokens.sort());
  });

  it("counts a Google 500 on one token, alerts about it, and refreshes it on the next run", async () => {
    clock = new Date("2037-04-01T06:00:00Z");
    const tag = randomUUID().slice(0, 6);
    const bad = await connection(`rt-bad-${tag}`, at(clock, hours(1)));
    await connection(`rt-ok-${tag}`, at(clock, hours(1)));
    const calls = vendors({ google: { respond: (c) => (c.form.refresh_token === `rt-bad-${tag}` ? HttpResponse.json({ error: "internal_failure" }, { status: 500 }) : undefined) } });
    const out = await run();
    expect(out).toMatchObject({ status: "succeeded", stats: { calendarTokens: { refreshed: 1, failed: 1 }, alert: "email: sent; slack: sent" } });
    expect(calls.resend[0]!.body.text).toContain("Google Calendar tokens: 1 refresh(es) failed");
    expect(await conn(bad.id)).toMatchObject({ status: "active", access_token: "ya29.old" });
    // A 5xx may have refreshed it: unknown, tried again (same key) once its backoff passed.
    expect(await refreshes(bad.id)).toMatchObject([{ key: `token-refresh:${bad.id}:0`, status: "unknown", attempts: 1, last_error: expect.stringMatching(/HTTP 500: internal_failure/) }]);

    const later = vendors();
    clock = at(clock, hours(1));
    expect(await run()).toMatchObject({ stats: { calendarTokens: { refreshed: 1, failed: 0 } } });
    expect(later.google.map((c) => c.form.refresh_token)).toEqual([`rt-bad-${tag}`]);
    expect(await refreshes(bad.id)).toMatchObject([{ key: `token-refresh:${bad.id}:0`, status: "succeeded", attempts: 2, last_error: null }]);
    expect(await conn(bad.id)).toMatchObject({ access_token: `ya29.new-rt-bad-${tag}`, refreshed_at: clock });
  });

  it("ends the run with 429 and Google's Retry-After, after the rest of the upkeep", async () => {
    clock = new Date("2037-03-01T06:00:00Z");
    const tag = randomUUID().slice(0, 6);
    const c = await connection(`rt-limited-${tag}`, at(clock, hours(1)));
    const calls = vendors({ google: { respond: () => HttpResponse.json({ error: "rate_limit_exceeded" }, { status: 429, headers: { "retry-after": "30" } }) } });
    const res = await jobRoute("cron", async () => deps).GET(bearerRequest("/api/cron/keep-alive", `Bearer ${CRON_SECRET}`), params("keep-alive"));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("30");
    expect(calls.resend[0]!.body.text).toMatch(/Google Calendar tokens: Google OAuth is rate-limiting us/);
    expect(await conn(c.id)).toMatchObject({ access_token: "ya29.old", refreshed_at: null });
    expect(await refreshes(c.id)).toEqual([]); // released: it never happened
    const later = vendors();
    expect(await run()).toMatchObject({ stats: { calendarTokens: { refreshed: 1 } } });
    expect(later.google.map((g) => g.form.refresh_token)).toEqual([`rt-limited-${tag}`]);
  });

  it("refreshes a connection once per window: again after the minimum interval, under the key of the window the last refresh opened", async () => {
    clock = new Date("2037-02-01T06:00:00Z");
    const t0 = clock;
    const tag = randomUUID().slice(0, 6);
    const c = await connection(`rt-window-${tag}`, at(clock, hours(1)));
    const calls = vendors();
    expect(await run()).toMatchObject({ stats: { calendarTokens: { refreshed: 1 } } });
    clock = at(t0, hours(2)); // expiring again within 24 h, but refreshed within the interval (20 h)
    expect(await run()).toMatchObject({ stats: { calendarTokens: { refreshed: 0, failed: 0 } } });
    clock = at(t0, hours(21));
    expect(await run()).toMatchObject({ stats: { calendarTokens: { refreshed: 1 } } });
    expect(calls.google.map((g) => g.form.refresh_token)).toEqual([`rt-window-${tag}`, `rt-window-${tag}`]);
    expect((await refreshes(c.id)).map((r) => `${r.key}=${r.status}`)).toEqual([`token-refresh:${c.id}:0=succeeded`, `token-refresh:${c.id}:${t0.getTime() / 1000}=succeeded`]);
    expect(await conn(c.id)).toMatchObject({ refreshed_at: clock, expires_at: at(clock, 3_599_000) });
  });
});

describe("keep-alive: Redis upkeep through the Upstash REST API", () => {
  let bridge: RedisBridge;
  let raw: IORedis;
  beforeAll(async () => {
    bridge = await startRedisBridge({ redisUrl: inject("redisUrl"), token: "keepalive-test-token", port: 0 });
    raw = new IORedis(inject("redisUrl"));
  });
  afterAll(async () => {
    await bridge?.close();
    raw?.disconnect();
  });

  it("deletes only our cache and payment rate-limit keys that carry no TTL, scanning page by page", async () => {
    const ns = `test:keepalive:${randomUUID()}:`;
    const prefixes = [`${ns}cache:`, `${ns}ratelimit:payment:`];
    const job = createKeepAlive({ schedules: () => [], redisPrefixes: prefixes });
    const d = testDeps([job], [], { ...VENDOR_ENV, UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: "keepalive-test-token" });
    const p = raw.pipeline();
    for (let i = 0; i < 700; i++) p.set(`${prefixes[0]}leaked:${i}`, "v"); // no TTL: leaked
    for (let i = 0; i < 300; i++) p.set(`${prefixes[0]}fresh:${i}`, "v", "EX", 600);
    p.set(`${prefixes[1]}user-1:window`, "3"); // INCR without EXPIRE
    p.set(`${prefixes[1]}user-2:window`, "1", "EX", 60);
    p.set(`${ns}sessions:keep-me`, "v"); // not our prefix: never touched
    await p.exec();

    const out = await runJob({ job: "keep-alive", payload: {}, trigger: "cli" }, { ...d, clock: () => new Date("2037-01-01T06:00:00Z") });
    expect(out).toMatchObject({ status: "succeeded", stats: { redis: "ok", redisPruned: { scanned: 1002, deleted: 701 } } });
    const left = async (pattern: string) => {
      let cursor = "0";
      let n = 0;
      do {
        const [next, keys] = await raw.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        n += keys.length;
        cursor = next;
      } while (cursor !== "0");
      return n;
    };
    expect(await left(`${prefixes[0]}leaked:*`)).toBe(0);
    expect(await left(`${prefixes[0]}fresh:*`)).toBe(300);
    expect(await raw.exists(`${prefixes[1]}user-1:window`, `${prefixes[1]}user-2:window`, `${ns}sessions:keep-me`)).toBe(2);
    expect(await raw.exists(`${ns}sessions:keep-me`)).toBe(1);
    const clean = raw.pipeline();
    for (let i = 0; i < 300; i++) clean.del(`${prefixes[0]}fresh:${i}`);
    clean.del(`${prefixes[1]}user-2:window`, `${ns}sessions:keep-me`);
    await clean.exec();
  });
});
