import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDb } from "../../lib/db/postgres";
import { createSupabaseDb } from "../../lib/db/supabase";
import { DB_CALL_CANCELLED } from "../../lib/db/timeouts";
import { DbError, type Db } from "../../lib/db/types";
import { startPostgrest, type TestPostgrest } from "../support/postgrest";
import { testDatabaseUrl } from "../support/db";

// Both adapters run the same SQL on the same real database: the postgres one directly, the
// supabase one through supabase-js and a PostgREST stand-in that executes the call for real.
const databaseUrl = testDatabaseUrl();
const direct = postgres(databaseUrl, { max: 2, onnotice: () => {} });
let rest: TestPostgrest;

beforeAll(async () => {
  rest = await startPostgrest(databaseUrl);
  // Test-only functions in this file's own database: one that echoes every parameter as the
  // server received it (value and type), one that takes its time.
  await direct.unsafe(`
    create or replace function public.contract_echo(
      p_bool boolean, p_int integer, p_big bigint, p_num numeric, p_at timestamptz, p_day date, p_id uuid,
      p_ats timestamptz[], p_texts text[], p_doc jsonb, p_text text default null
    ) returns jsonb language sql as $$
      select jsonb_build_object(
        'bool', p_bool, 'int', p_int, 'big', p_big::text, 'num', p_num::text, 'at', p_at, 'day', p_day, 'id', p_id,
        'ats', to_jsonb(p_ats), 'texts', to_jsonb(p_texts), 'doc', p_doc, 'doc_type', jsonb_typeof(p_doc), 'text', p_text)
    $$;
    create or replace function public.contract_sleep(p_ms integer) returns jsonb language sql as $$
      select jsonb_build_object('slept', p_ms) from pg_sleep(p_ms / 1000.0)
    $$;`);
});
afterAll(async () => {
  await rest?.close();
  await direct.end({ timeout: 5 });
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
type Rec = Record<string, unknown>;

const adapters = [
  { kind: "postgres", make: () => createPostgresDb(databaseUrl, { max: 2 }), unknownFnCode: "42883" },
  { kind: "supabase", make: () => createSupabaseDb(rest.url, rest.serviceRoleKey), unknownFnCode: "PGRST202" },
] as const;

const open = (db: Db, args: Rec) => db.rpc<Rec>("job_run_open", { p_trigger: "qstash", p_lease_ms: 60_000, ...args });
const close = (db: Db, args: Rec) => db.rpc<Rec>("job_run_close", args);

async function rejection(p: Promise<unknown>): Promise<DbError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DbError);
  return err as DbError;
}

describe.each(adapters)("Db contract: $kind adapter", ({ kind, make, unknownFnCode }) => {
  let db: Db;
  beforeAll(() => {
    db = make();
  });
  afterAll(() => db.close());

  it("reports its kind and answers cronlayer_ping with {ok, now}", async () => {
    expect(db.kind).toBe(kind);
    const before = Date.now();
    const pong = await db.rpc<Rec>("cronlayer_ping");
    expect(Object.keys(pong).sort()).toEqual(["now", "ok"]);
    expect(pong.ok).toBe(true);
    expect(pong.now).toMatch(TIMESTAMP);
    expect(Math.abs(Date.parse(pong.now as string) - before)).toBeLessThan(60_000);
    await expect(db.ping()).resolves.toBeUndefined();
  });

  it("job_run_open decides run, in_flight, skip and duplicate; job_run_close closes once", async () => {
    const job = `contract-${randomUUID()}`;
    const slot = new Date(Date.now() - 1500);
    const run = await open(db, { p_job: job, p_message_id: "m1", p_schedule_id: "s1", p_attempt: 0, p_overlap: "skip", p_slot_at: slot });
    expect(run).toStrictEqual({ decision: "run", run_id: expect.stringMatching(UUID), started_at: expect.stringMatching(TIMESTAMP), slot_at: expect.stringMatching(TIMESTAMP) });
    expect(Date.parse(run.slot_at as string)).toBe(slot.getTime());
    // The Date arrived as the same instant, so the lag is measured from it.
    const [row] = await direct<{ slot_at: Date; lag_ms: number | string; schedule_id: string }[]>`
      select slot_at, lag_ms, schedule_id from job_runs where id = ${run.run_id as string}`;
    expect(row!.slot_at.toISOString()).toBe(slot.toISOString());
    // lag_ms is a bigint column (a monthly slot's lag overflows integer): postgres.js reads it as a string.
    expect(Number(row!.lag_ms)).toBeGreaterThanOrEqual(1500);
    expect(Number(row!.lag_ms)).toBeLessThan(15_000);
    expect(row!.schedule_id).toBe("s1");

    const inFlight = await open(db, { p_job: job, p_message_id: "m1", p_attempt: 1 });
    expect(inFlight).toStrictEqual({ decision: "in_flight", run_id: run.run_id, retry_after_ms: expect.any(Number) });
    expect(inFlight.retry_after_ms).toBeGreaterThan(45_000);
    expect(inFlight.retry_after_ms).toBeLessThanOrEqual(60_000);

    const skip = await open(db, { p_job: job, p_message_id: "m2" });
    expect(skip).toStrictEqual({ decision: "skip", run_id: expect.stringMatching(UUID), held_by: run.run_id });
    expect(skip.run_id).not.toBe(run.run_id);

    const stats = { sent: 3, nested: { ids: [1, "x"], ok: true } };
    const closed = await close(db, { p_run_id: run.run_id, p_status: "succeeded", p_stats: stats, p_error: null });
    expect(closed).toStrictEqual({ closed: true, run_id: run.run_id, status: "succeeded", duration_ms: expect.any(Number) });
    expect(closed.duration_ms).toBeGreaterThanOrEqual(0);
    expect(await close(db, { p_run_id: run.run_id, p_status: "succeeded" })).toStrictEqual({ closed: false, run_id: run.run_id });

    const dup = await open(db, { p_job: job, p_message_id: "m1", p_attempt: 2 });
    expect(dup).toStrictEqual({ decision: "duplicate", run_id: expect.stringMatching(UUID), original_run_id: run.run_id });

    // jsonb arguments land as jsonb objects (not as a JSON-encoded string), error as SQL NULL.
    const rows = await direct<{ id: string; status: string; stats: unknown; stats_type: string | null; error_is_null: boolean }[]>`
      select id, status, stats, jsonb_typeof(stats) as stats_type, error is null as error_is_null
        from job_runs where job = ${job} order by started_at`;
    expect(rows.map((r) => [r.id, r.status])).toEqual([
      [run.run_id, "succeeded"],
      [skip.run_id, "skipped"],
      [dup.run_id, "duplicate"],
    ]);
    expect(rows[0]).toMatchObject({ stats, stats_type: "object", error_is_null: true });
  });

  it("job_run_open answers replay for a jti seen before, keeping the given expiry", async () => {
    const jti = `jti-${randomUUID()}`;
    const expires = new Date(Date.now() + 300_000);
    const first = await open(db, { p_job: `contract-${randomUUID()}`, p_jti: jti, p_jti_expires_at: expires });
    expect(first.decision).toBe("run");
    expect(await open(db, { p_job: `contract-${randomUUID()}`, p_jti: jti, p_jti_expires_at: expires })).toStrictEqual({ decision: "replay" });
    const [sig] = await direct<{ expires_at: Date }[]>`select expires_at from used_signatures where jti = ${jti}`;
    expect(sig!.expires_at.toISOString()).toBe(expires.toISOString());
  });

  it("passes null and undefined arguments as SQL NULL", async () => {
    const job = `contract-${randomUUID()}`;
    const run = await open(db, { p_job: job, p_message_id: null, p_schedule_id: undefined, p_jti: null, p_slot_at: null, p_overlap: "allow" });
    expect(run.decision).toBe("run");
    const failure = { name: "Boom", message: "it broke", retryable: false };
    expect(await close(db, { p_run_id: run.run_id, p_status: "failed", p_stats: null, p_error: failure })).toMatchObject({ closed: true, status: "failed" });
    const [row] = await direct<{ message_id: string | null; schedule_id: string | null; slot_at: Date | null; lag_ms: number | null; stats_is_null: boolean; error: unknown }[]>`
      select message_id, schedule_id, slot_at, lag_ms, stats is null as stats_is_null, error from job_runs where id = ${run.run_id as string}`;
    // SQL NULL, not the jsonb value 'null': a null argument must not become JSON.
    expect(row).toEqual({ message_id: null, schedule_id: null, slot_at: null, lag_ms: null, stats_is_null: true, error: failure });
  });

  it("release_expired_reservations releases only expired holds, pages by p_limit, and takes a Date", async () => {
    // A moment in the 1970s: other tests release holds up to 'now', so ours never collide with theirs.
    const at = new Date(Date.UTC(1970, 0, 1) + Math.floor(Math.random() * 3e11));
    const hour = 3_600_000;
    const expert = randomUUID();
    const insert = async (status: string, offsetMs: number) => {
      const [r] = await direct<{ id: string }[]>`
        insert into slot_reservations (expert_id, client_id, slot_start, slot_end, status, expires_at)
        values (${expert}, ${randomUUID()}, ${new Date(at.getTime() + 24 * hour)}, ${new Date(at.getTime() + 25 * hour)}, ${status}, ${new Date(at.getTime() + offsetMs)})
        returning id`;
      return r!.id;
    };
    try {
      const expired = [await insert("held", -2 * hour), await insert("held", 0)];
      const future = await insert("held", 1000);
      const paid = await insert("paid", -hour);
      expect(await db.rpc("release_expired_reservations", { p_now: at })).toStrictEqual({ released: 2, more: false });
      const states = await direct<{ id: string; status: string; released_at: Date | null }[]>`
        select id, status, released_at from slot_reservations where expert_id = ${expert}`;
      const byId = new Map(states.map((s) => [s.id, s]));
      for (const id of expired) expect(byId.get(id)).toEqual({ id, status: "released", released_at: at });
      expect(byId.get(future)).toEqual({ id: future, status: "held", released_at: null });
      expect(byId.get(paid)).toEqual({ id: paid, status: "paid", released_at: null });
      expect(await db.rpc("release_expired_reservations", { p_now: at })).toStrictEqual({ released: 0, more: false });

      for (let i = 0; i < 3; i++) await insert("held", -hour - i);
      expect(await db.rpc("release_expired_reservations", { p_now: at, p_limit: 2 })).toStrictEqual({ released: 2, more: true });
      expect(await db.rpc("release_expired_reservations", { p_now: at, p_limit: 2 })).toStrictEqual({ released: 1, more: false });
    } finally {
      await direct`delete from slot_reservations where expert_id = ${expert}`;
    }
  });

  it("surfaces a raised SQL error as a DbError with the function name, SQLSTATE and message", async () => {
    const err = await rejection(open(db, { p_job: `contract-${randomUUID()}`, p_overlap: "bogus" }));
    expect(err.fn).toBe("job_run_open");
    expect(err.code).toBe("22023");
    expect(err.message).toBe("database call job_run_open failed: unknown overlap policy bogus");

    // Only the shape is shared here: postgres.js parses timestamp strings in Node before sending
    // ("Invalid time value", no SQLSTATE) where PostgREST leaves it to the server (22007).
    // The server parses a string for a timestamptz parameter in both adapters, and answers alike.
    const bad = await rejection(open(db, { p_job: `contract-${randomUUID()}`, p_slot_at: "not a date" }));
    expect(bad.fn).toBe("job_run_open");
    expect(bad.code).toBe("22007");
    expect(bad.message).toBe('database call job_run_open failed: invalid input syntax for type timestamp with time zone: "not a date"');
  });

  // postgres.js typed bare booleans, numbers, bigints and arrays of dates by their JS type, so the
  // call to a function with a jsonb parameter did not resolve ("function ... does not exist").
  const d1 = new Date("2026-01-02T03:04:05.678Z");
  const d2 = new Date("2026-12-31T23:59:59.999Z");
  it.each([
    ["a boolean", true, true, "boolean"],
    ["a number", 42, 42, "number"],
    ["a bigint", 10n, 10, "number"],
    ["a bigint past 2^53 (as its digits)", 2n ** 60n, "1152921504606846976", "string"],
    ["an array of dates", [d1, d2], [d1.toISOString(), d2.toISOString()], "array"],
    ["a nested object", { a: { b: [1, "x", null, { c: false }] }, at: d1, n: 7n }, { a: { b: [1, "x", null, { c: false }] }, at: d1.toISOString(), n: 7 }, "object"],
    ["a string (a JSON string, not parsed)", '{"not":"parsed"}', '{"not":"parsed"}', "string"],
  ])("passes %s to a jsonb parameter as that JSON value", async (_what, value, stored, type) => {
    const run = await open(db, { p_job: `contract-${randomUUID()}`, p_overlap: "allow" });
    expect(await close(db, { p_run_id: run.run_id, p_status: "succeeded", p_stats: value })).toMatchObject({ closed: true });
    const [row] = await direct<{ stats: unknown; stats_type: string }[]>`
      select stats, jsonb_typeof(stats) as stats_type from job_runs where id = ${run.run_id as string}`;
    expect(row).toEqual({ stats: stored, stats_type: type });
  });

  it("casts every argument to its parameter's declared type, whatever its JS type", async () => {
    const id = randomUUID();
    const nasty = `it's "quoted" \\ back\\slash $1 E'\\x' --; select 1; ⏰`;
    const echo = await db.rpc<Rec>("contract_echo", {
      p_bool: false, p_int: 42, p_big: 10n, p_num: 1.5, p_at: d1, p_day: "2026-02-03", p_id: id,
      p_ats: [d1, null, d2], p_texts: ["a", nasty, null], p_doc: { deep: [true, 2n, d2] }, p_text: nasty,
    });
    expect(echo).toStrictEqual({
      bool: false, int: 42, big: "10", num: "1.5", at: expect.stringMatching(TIMESTAMP), day: "2026-02-03", id,
      ats: [expect.stringMatching(TIMESTAMP), null, expect.stringMatching(TIMESTAMP)], texts: ["a", nasty, null],
      doc: { deep: [true, 2, d2.toISOString()] }, doc_type: "object", text: nasty,
    });
    expect(Date.parse(echo.at as string)).toBe(d1.getTime());
    expect((echo.ats as string[]).map((x) => x && Date.parse(x))).toEqual([d1.getTime(), null, d2.getTime()]);
    // Optional parameters stay optional, and NULL reaches each type as NULL.
    const nulls = await db.rpc<Rec>("contract_echo", {
      p_bool: null, p_int: null, p_big: null, p_num: null, p_at: null, p_day: null, p_id: null, p_ats: null, p_texts: [], p_doc: null,
    });
    expect(nulls).toStrictEqual({ bool: null, int: null, big: null, num: null, at: null, day: null, id: null, ats: null, texts: [], doc: null, doc_type: null, text: null });
  });

  it("refuses an invalid Date instead of sending NULL", async () => {
    const err = await rejection(open(db, { p_job: `contract-${randomUUID()}`, p_slot_at: new Date(Number.NaN) }));
    expect(err.message).toBe("database call job_run_open failed: argument p_slot_at is an invalid Date");
  });

  it("stops a call when the caller's signal aborts, and never starts one whose signal already did", async () => {
    const before = rest.requests.length;
    const gone = new AbortController();
    gone.abort(new Error("run timed out"));
    const early = await rejection(db.rpc("cronlayer_ping", {}, { signal: gone.signal }));
    expect(early.code).toBe(DB_CALL_CANCELLED);
    expect(early.message).toBe("database call cronlayer_ping failed: cancelled by the caller before the database answered (Error: run timed out)");
    expect(rest.requests.length).toBe(before);

    const ac = new AbortController();
    const started = Date.now();
    const slow = db.rpc("contract_sleep", { p_ms: 5_000 }, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error("stop")), 200);
    const err = await rejection(slow);
    expect(err.code).toBe(DB_CALL_CANCELLED);
    expect(Date.now() - started).toBeLessThan(4_000);
    // The adapter stays usable after a cancelled call.
    expect(await db.rpc<Rec>("contract_sleep", { p_ms: 0 })).toStrictEqual({ slept: 0 });
  });

  it("rejects an unknown function or argument name with a DbError naming the function", async () => {
    const err = await rejection(db.rpc("cronlayer_no_such_fn", { p_x: 1 }));
    expect(err.fn).toBe("cronlayer_no_such_fn");
    expect(err.code).toBe(unknownFnCode);
    expect(err.message).toMatch(/^database call cronlayer_no_such_fn failed: .*cronlayer_no_such_fn/);

    const arg = await rejection(close(db, { p_run_id: randomUUID(), p_status: "succeeded", p_bogus: 1 }));
    expect(arg.fn).toBe("job_run_close");
    expect(arg.code).toBe(unknownFnCode);
  });

  it("refuses names that are not lower-case identifiers before any request", async () => {
    const before = rest.requests.length;
    const err = await rejection(db.rpc("cronlayer_ping; drop table job_runs"));
    expect(err.message).toContain("function names are lower-case identifiers");
    expect((await rejection(db.rpc("cronlayer_ping", { "p x": 1 }))).message).toContain('argument "p x" is not a lower-case identifier');
    expect(rest.requests.length).toBe(before);
  });
});

/** The value with what legitimately differs between calls (ids, clocks, durations) blanked out. */
function normalize(v: unknown, key = ""): unknown {
  if (Array.isArray(v)) return v.map((x) => normalize(x));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, normalize(x, k)]));
  if (typeof v === "string" && UUID.test(v)) return "<uuid>";
  if (typeof v === "string" && TIMESTAMP.test(v)) return "<timestamp>";
  if (typeof v === "number" && (key === "duration_ms" || key === "retry_after_ms")) return "<number>";
  return v;
}

async function scenario(db: Db) {
  const job = `contract-${randomUUID()}`;
  const jti = `jti-${randomUUID()}`;
  const run = await open(db, { p_job: job, p_message_id: "m1", p_jti: jti, p_slot_at: new Date() });
  const failed = (p: Promise<unknown>) => p.then(() => "resolved", (e: DbError) => ({ name: e.name, fn: e.fn, code: e.code, message: e.message }));
  return {
    ping: await db.rpc("cronlayer_ping"),
    run,
    inFlight: await open(db, { p_job: job, p_message_id: "m1" }),
    skip: await open(db, { p_job: job, p_message_id: "m2" }),
    replay: await open(db, { p_job: job, p_jti: jti }),
    close: await close(db, { p_run_id: run.run_id, p_status: "succeeded", p_stats: { n: 1 } }),
    closeAgain: await close(db, { p_run_id: run.run_id, p_status: "failed" }),
    duplicate: await open(db, { p_job: job, p_message_id: "m1" }),
    raised: await failed(close(db, { p_run_id: run.run_id, p_status: "running" })),
  };
}

describe("Db contract: both adapters side by side", () => {
  it("return the same keys, value types and deterministic values for the same calls", async () => {
    const [pg, sb] = [adapters[0].make(), adapters[1].make()];
    try {
      const a = await scenario(pg);
      const b = await scenario(sb);
      expect(normalize(b)).toStrictEqual(normalize(a));
      // Pinned too, so the two cannot agree on a wrong shape.
      expect(normalize(a)).toStrictEqual({
        close: { closed: true, duration_ms: "<number>", run_id: "<uuid>", status: "succeeded" },
        closeAgain: { closed: false, run_id: "<uuid>" },
        duplicate: { decision: "duplicate", original_run_id: "<uuid>", run_id: "<uuid>" },
        inFlight: { decision: "in_flight", retry_after_ms: "<number>", run_id: "<uuid>" },
        ping: { now: "<timestamp>", ok: true },
        raised: { code: "22023", fn: "job_run_close", message: "database call job_run_close failed: a run closes as succeeded or failed, not running", name: "DbError" },
        replay: { decision: "replay" },
        run: { decision: "run", run_id: "<uuid>", slot_at: "<timestamp>", started_at: "<timestamp>" },
        skip: { decision: "skip", held_by: "<uuid>", run_id: "<uuid>" },
      });
    } finally {
      await pg.close();
      await sb.close();
    }
  });
});

describe("the test PostgREST answers as PostgREST does", () => {
  const post = (fn: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${rest.url}/rest/v1/rpc/${fn}`, {
      method: "POST",
      headers: { apikey: rest.serviceRoleKey, authorization: `Bearer ${rest.serviceRoleKey}`, "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });

  it("receives what supabase-js 2.109 really sends for rpc", async () => {
    const sb = createSupabaseDb(rest.url, rest.serviceRoleKey);
    const at = new Date("2001-02-03T04:05:06.789Z");
    const before = rest.requests.length;
    await sb.rpc("release_expired_reservations", { p_now: at, p_limit: 1 });
    const req = rest.requests[before]!;
    expect(req).toMatchObject({ method: "POST", path: "/rest/v1/rpc/release_expired_reservations" });
    expect(req.headers).toMatchObject({
      apikey: rest.serviceRoleKey,
      authorization: `Bearer ${rest.serviceRoleKey}`,
      "content-profile": "public",
      "content-type": "application/json",
    });
    expect(req.headers.prefer).toBeUndefined();
    expect(JSON.parse(req.body)).toEqual({ p_now: "2001-02-03T04:05:06.789Z", p_limit: 1 });
  });

  it("rejects a request without the service-role key with 401, and the adapter turns it into a DbError", async () => {
    const missing = await fetch(`${rest.url}/rest/v1/rpc/cronlayer_ping`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ message: "No API key found in request" });
    expect((await post("cronlayer_ping", {}, { apikey: "anon-key", authorization: "Bearer anon-key" })).status).toBe(401);
    expect((await post("cronlayer_ping", {}, { authorization: "Bearer someone-else" })).status).toBe(401);

    const wrong = createSupabaseDb(rest.url, "not-the-service-role-key");
    const err = await rejection(wrong.rpc("cronlayer_ping"));
    expect(err.message).toBe("database call cronlayer_ping failed: Invalid API key");
    await expect(wrong.ping()).rejects.toBeInstanceOf(DbError);
  });

  it("maps errors to PostgREST's statuses and bodies", async () => {
    const raised = await post("job_run_open", { p_job: "x", p_trigger: "cli", p_overlap: "bogus" });
    expect(raised.status).toBe(400);
    expect(await raised.json()).toStrictEqual({ code: "22023", message: "unknown overlap policy bogus", details: null, hint: null });

    const unknown = await post("cronlayer_no_such_fn", {});
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: "PGRST202", message: "Could not find the function public.cronlayer_no_such_fn without parameters in the schema cache" });

    const missingArg = await post("job_run_open", { p_job: "x" });
    expect(missingArg.status).toBe(404);
    expect(await missingArg.json()).toMatchObject({ code: "PGRST202", message: "Could not find the function public.job_run_open(p_job) in the schema cache" });

    expect((await post("cronlayer_ping", {}, { "content-profile": "private" })).status).toBe(406);
    expect((await post("cronlayer_ping", [1])).status).toBe(400);
  });

  it("returns the function's JSON value with 200", async () => {
    const res = await post("release_expired_reservations", { p_now: "1960-01-01T00:00:00Z", p_limit: 7 });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toStrictEqual({ released: 0, more: false });
  });
});
