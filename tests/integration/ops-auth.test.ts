import { describe, expect, it } from "vitest";
import { guardAction, safeNext } from "../../lib/ops/guard";
import { LOGIN_LIMIT, signIn, signOut } from "../../lib/ops/login";
import { cookieSpec, newSession, readSession, SESSION_TTL_MS } from "../../lib/ops/session";
import { APP_URL, testDeps, uniqueName } from "../support/app";

/** The console's sign-in, session and CSRF checks, against the real database (rate limit rows). */
const PASSWORD = "a-long-ops-password-0123";
const deps = testDeps([], [], { OPS_PASSWORD: PASSWORD });
const ORIGIN = new URL(APP_URL).origin;

function login(password: string, o: { client?: string; origin?: string; next?: string; name?: string } = {}) {
  const body = new URLSearchParams({ password, name: o.name ?? "Ada", ...(o.next ? { next: o.next } : {}) });
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", origin: o.origin ?? ORIGIN };
  if (o.client) headers["x-forwarded-for"] = `${o.client}, 10.0.0.1`;
  return signIn(new Request(`${APP_URL}/ops/session`, { method: "POST", headers, body }), deps);
}
const cookieOf = (res: Response) => res.headers.get("set-cookie") ?? "";
const valueOf = (res: Response) => /^[^=]+=([^;]*)/.exec(cookieOf(res))?.[1] ?? "";

function action(o: { cookie?: string; csrf?: string; origin?: string }) {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (o.cookie) headers.cookie = `other=1; ${cookieSpec(deps.env).name}=${o.cookie}`;
  if (o.origin) headers.origin = o.origin;
  return new Request(`${APP_URL}/ops/actions/run`, { method: "POST", headers, body: new URLSearchParams({ job: "x", ...(o.csrf ? { csrf: o.csrf } : {}) }) });
}

describe("ops sign-in", () => {
  it("sets a signed HttpOnly, Secure, SameSite=Strict __Host- cookie with an expiry over https, and sends you where you were going", async () => {
    const res = await login(PASSWORD, { client: uniqueName("ip"), next: "/ops/dead-letters?job=a" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/ops/dead-letters?job=a");
    const cookie = cookieOf(res);
    expect(cookie).toMatch(/^__Host-cronlayer_ops=v2\.\d{13}\.[\w-]{24}\.[\w-]+\.[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Expires=.+ GMT; Secure$/);
    const session = readSession(valueOf(res), PASSWORD, Date.now());
    expect(session!.expires.getTime() - Date.now()).toBeGreaterThan(SESSION_TTL_MS - 60_000);
    expect(session!.operator).toBe("Ada");
  });

  it("asks a name (trimmed, 1 to 40 characters): without one, no cookie and no attempt counted", async () => {
    const client = uniqueName("ip");
    for (const name of ["", "   ", "x".repeat(41), "a\u0007b"]) {
      const res = await login(PASSWORD, { client, name });
      expect(res.headers.get("location")).toMatch(/^\/ops\/login\?error=name/);
      expect(cookieOf(res)).toBe("");
    }
    const res = await login(PASSWORD, { client, name: "  Grace   Hopper " });
    expect(readSession(valueOf(res), PASSWORD, Date.now())!.operator).toBe("Grace Hopper");
  });

  it("never redirects outside the console after sign-in", () => {
    for (const bad of ["//evil.example/ops", "https://evil.example", "/opsx", "/\\evil", "javascript:alert(1)", undefined]) expect(safeNext(bad)).toBe("/ops");
    expect(safeNext("/ops/jobs/a?run=1")).toBe("/ops/jobs/a?run=1");
  });

  it("refuses a wrong password without a cookie, and after 5 wrong ones refuses even the right one from that client, not from another", async () => {
    const client = uniqueName("ip");
    for (let i = 0; i < LOGIN_LIMIT.perClient; i++) {
      const wrong = await login(`wrong-${i}`, { client });
      expect(wrong.headers.get("location")).toMatch(/^\/ops\/login\?error=wrong/);
      expect(cookieOf(wrong)).toBe("");
    }
    const limited = await login(PASSWORD, { client });
    expect(limited.headers.get("location")).toMatch(/^\/ops\/login\?error=limited&retry=(\d+)/);
    const retry = Number(/retry=(\d+)/.exec(limited.headers.get("location")!)![1]);
    expect(retry).toBeGreaterThan(800);
    expect(retry).toBeLessThanOrEqual(LOGIN_LIMIT.windowMs / 1000);
    expect(cookieOf(limited)).toBe("");
    expect(cookieOf(await login(PASSWORD, { client: uniqueName("ip") }))).toMatch(/^__Host-cronlayer_ops=v2\./);
  });

  it("reserves each attempt before comparing: 120 concurrent wrong passwords compare at most 5 from one client and 50 in all", async () => {
    // A pool as wide as a busy deployment's, so the guesses really reach the database together; at a
    // time of their own, so the global cap of this test and of the others' never meet.
    const wide = testDeps([], [], { OPS_PASSWORD: PASSWORD, DATABASE_POOL_MAX: "20" });
    const at = new Date(Date.UTC(2001, 0, 1) + Math.floor(Math.random() * 1e10));
    const guess = (client: string, i: number, now: Date) =>
      signIn(new Request(`${APP_URL}/ops/session`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, "x-forwarded-for": client }, body: new URLSearchParams({ name: "Ada", password: `wrong-${i}` }) }), wide, now);
    // "wrong" answers a compared password; "limited" was refused before comparing.
    const outcomes = async (answers: Promise<Response>[]) => {
      const errors = (await Promise.all(answers)).map((r) => /error=(\w+)/.exec(r.headers.get("location") ?? "")?.[1]);
      return { wrong: errors.filter((e) => e === "wrong").length, limited: errors.filter((e) => e === "limited").length };
    };
    try {
      const one = uniqueName("ip");
      expect(await outcomes(Array.from({ length: 120 }, (_, i) => guess(one, i, at)))).toEqual({ wrong: LOGIN_LIMIT.perClient, limited: 115 });
      // A window later, 120 clients at once (a forged X-Forwarded-For each): the global cap holds.
      const later = new Date(at.getTime() + 2 * LOGIN_LIMIT.windowMs);
      expect(await outcomes(Array.from({ length: 120 }, (_, i) => guess(uniqueName("ip"), i, later)))).toEqual({ wrong: LOGIN_LIMIT.global, limited: 70 });
    } finally {
      await wide.db.close();
    }
  });

  it("does not count a right password against the client", async () => {
    const client = uniqueName("ip");
    for (let i = 0; i < LOGIN_LIMIT.perClient + 2; i++) expect(cookieOf(await login(PASSWORD, { client }))).toMatch(/^__Host-cronlayer_ops=v2\./);
    expect((await login("wrong", { client })).headers.get("location")).toMatch(/error=wrong/);
  });

  it("refuses a sign-in form posted from another site", async () => {
    const res = await login(PASSWORD, { client: uniqueName("ip"), origin: "https://evil.example" });
    expect(res.headers.get("location")).toBe("/ops/login?error=origin");
    expect(cookieOf(res)).toBe("");
  });

  it("is closed when neither OPS_PASSWORD nor CRON_SECRET is set", async () => {
    const closed = testDeps([], [], { CRON_SECRET: undefined });
    expect(closed.env.ops.password).toBeUndefined();
    const res = await signIn(new Request(`${APP_URL}/ops/session`, { method: "POST", headers: { origin: ORIGIN }, body: new URLSearchParams({ password: "" }) }), closed);
    expect(res.headers.get("location")).toMatch(/error=closed/);
    expect(readSession(newSession("anything", Date.now(), "Ada").value, undefined, Date.now())).toBeUndefined();
  });

  it("falls back to CRON_SECRET when OPS_PASSWORD is unset", () => {
    expect(testDeps([], []).env.ops.password).toBe(testDeps([], []).env.cronSecret);
  });
});

describe("ops sessions and actions", () => {
  const now = Date.now();
  const { value } = newSession(PASSWORD, now, "Ada");
  const session = readSession(value, PASSWORD, now)!;

  it("rejects a tampered, an expired, or another password's session", () => {
    const [v, exp, nonce, name, mac] = value.split(".");
    expect(readSession(`${v}.${Number(exp) + 1000}.${nonce}.${name}.${mac}`, PASSWORD, now)).toBeUndefined();
    // Another name under the same MAC: refused.
    expect(readSession(`${v}.${exp}.${nonce}.${Buffer.from("Eve").toString("base64url")}.${mac}`, PASSWORD, now)).toBeUndefined();
    expect(readSession(value, PASSWORD, now + SESSION_TTL_MS + 1)).toBeUndefined();
    expect(readSession(value, "another-password-0123", now)).toBeUndefined();
    expect(readSession(`${value}x`, PASSWORD, now)).toBeUndefined();
  });

  it("lets an action through only with the cookie, its CSRF token and a same-site origin", async () => {
    expect(await guardAction(action({ cookie: value, csrf: session.csrf, origin: ORIGIN }), deps.env)).toMatchObject({ ok: true });
    // Some clients send no Origin: the token decides.
    expect(await guardAction(action({ cookie: value, csrf: session.csrf }), deps.env)).toMatchObject({ ok: true });
    const status = async (o: Parameters<typeof action>[0]) => {
      const g = await guardAction(action(o), deps.env);
      return g.ok ? 200 : g.response.status;
    };
    expect(await status({ cookie: value })).toBe(403);
    expect(await status({ cookie: value, csrf: "A".repeat(43) })).toBe(403);
    // Another session's token is not this session's.
    expect(await status({ cookie: value, csrf: readSession(newSession(PASSWORD, now, "Ada").value, PASSWORD, now)!.csrf })).toBe(403);
    expect(await status({ csrf: session.csrf })).toBe(401);
    expect(await status({ cookie: value, csrf: session.csrf, origin: "https://evil.example" })).toBe(403);
  });

  it("signs out by expiring the cookie at once", () => {
    expect(cookieOf(signOut(deps.env))).toMatch(/^__Host-cronlayer_ops=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0; Secure$/);
  });
});
