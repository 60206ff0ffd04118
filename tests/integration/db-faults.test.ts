import postgres from "postgres";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createPostgresDb, type PostgresDbOptions } from "../../lib/db/postgres";
import { createSupabaseDb } from "../../lib/db/supabase";
import { DB_CALL_TIMEOUT } from "../../lib/db/timeouts";
import { DbError, type Db } from "../../lib/db/types";
import { defineJob } from "../../lib/jobs/define";
import { runJob } from "../../lib/jobs/run";
import { testDeps, uniqueName } from "../support/app";
import { testDatabaseUrl } from "../support/db";
import { startPostgrest } from "../support/postgrest";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy";

// The Postgres adapter talks to the real database through a TCP proxy that refuses, black-holes
// and freezes. Short bounds keep the file fast; the default reconnect backoff cap is the real one.
const BOUNDS = { connectMs: 500, statementMs: 1_000, callMs: 1_500 } satisfies PostgresDbOptions;
// Generous next to the bounds above, far below the 10-25 s these failures used to take.
const FAILS_WITHIN_MS = 5_000;
const RECOVERS_WITHIN_MS = 2_500;

let proxy: TcpProxy;
const opened: Db[] = [];
const direct = postgres(testDatabaseUrl(), { max: 1, onnotice: () => {} });

beforeAll(async () => {
  const target = new URL(testDatabaseUrl());
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await direct.unsafe(`create or replace function public.faults_sleep(p_ms integer) returns jsonb language sql as $$
    select jsonb_build_object('slept', p_ms) from pg_sleep(p_ms / 1000.0) $$`);
});
afterEach(async () => {
  proxy.restore();
  await Promise.all(opened.splice(0).map((db) => db.close()));
});
afterAll(async () => {
  await proxy.close();
  await direct.end();
});

function proxiedDb(opts: PostgresDbOptions = {}): Db {
  const db = createPostgresDb(proxy.url(testDatabaseUrl()), { ...BOUNDS, ...opts });
  opened.push(db);
  return db;
}

/** How the call settled and how long it took. */
async function timed<T>(p: Promise<T>): Promise<{ ms: number; value?: T; error?: DbError }> {
  const started = performance.now();
  try {
    const value = await p;
    return { ms: performance.now() - started, value };
  } catch (error) {
    expect(error).toBeInstanceOf(DbError);
    return { ms: performance.now() - started, error: error as DbError };
  }
}

const ping = (db: Db) => db.rpc<{ ok: boolean }>("cronlayer_ping");

describe("Postgres adapter: the database never hangs a call", () => {
  it("a frozen database fails a call within its bound, and serves the next one once it thaws", async () => {
    const db = proxiedDb();
    expect((await ping(db)).ok).toBe(true);
    proxy.freeze();
    const frozen = await timed(ping(db));
    expect(frozen.error?.code).toBe(DB_CALL_TIMEOUT);
    expect(frozen.error?.message).toBe(
      "database call cronlayer_ping failed: no answer within 1500 ms: the database, or the network path to it, is stuck. The query was cancelled; check that the database is up and reachable.",
    );
    expect(frozen.ms).toBeLessThan(FAILS_WITHIN_MS);

    proxy.restore();
    const thawed = await timed(ping(db));
    expect(thawed.value).toMatchObject({ ok: true });
    expect(thawed.ms).toBeLessThan(RECOVERS_WITHIN_MS);
  });

  it("abandons a connection that stays frozen, so calls are not queued behind it (pool of one)", async () => {
    const db = proxiedDb({ max: 1 });
    expect((await ping(db)).ok).toBe(true);
    expect(proxy.stats().open).toBe(1);
    proxy.freeze();
    expect((await timed(ping(db))).error?.code).toBe(DB_CALL_TIMEOUT);
    // New connections get through again; the old one stays dead, as after a failover.
    proxy.pass();
    const next = await timed(ping(db));
    expect(next.value).toMatchObject({ ok: true });
    expect(next.ms).toBeLessThan(RECOVERS_WITHIN_MS);
    // The stuck connection is closed by the client, not left to the kernel's retransmission timeout.
    await vi.waitFor(() => expect(proxy.stats().open).toBe(1), { timeout: 5_000, interval: 100 });
  });

  it("a black-holed connect fails within the connect timeout, naming it", async () => {
    const db = proxiedDb();
    proxy.blackHole();
    const hole = await timed(ping(db));
    expect(hole.error?.code).toBe("CONNECT_TIMEOUT");
    expect(hole.error?.message).toBe(
      `database call cronlayer_ping failed: could not connect to 127.0.0.1:${proxy.port} within 500 ms: the database does not answer. Check DATABASE_URL and that the database is up.`,
    );
    expect(hole.ms).toBeLessThan(FAILS_WITHIN_MS);

    proxy.pass();
    const back = await timed(ping(db));
    expect(back.value).toMatchObject({ ok: true });
    expect(back.ms).toBeLessThan(RECOVERS_WITHIN_MS);
  });

  it("after a long outage of refused connections, a returning database serves at once (backoff capped)", async () => {
    const db = proxiedDb({ max: 5 });
    proxy.refuse();
    // Rounds of concurrent calls: each failed connect raises postgres.js's shared retry count,
    // whose backoff would reach 10-20 s by the last round without a cap.
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(Array.from({ length: 5 }, () => timed(ping(db))));
      for (const r of results) {
        expect(r.error?.message).toMatch(/^database call cronlayer_ping failed: ((read|connect) ECONNRESET.*: the database, or a proxy on the way, dropped the connection|the connection to .* closed before the answer: the database restarted or a proxy dropped it)\. The call can be retried\.$/);
        expect(r.ms).toBeLessThan(FAILS_WITHIN_MS);
      }
    }
    expect(proxy.stats().refused).toBeGreaterThanOrEqual(15);

    proxy.pass();
    const back = await timed(ping(db));
    expect(back.value).toMatchObject({ ok: true });
    expect(back.ms).toBeLessThan(RECOVERS_WITHIN_MS);
  });

  it("the server cancels a statement past its statement timeout", async () => {
    const db = proxiedDb({ statementMs: 300, callMs: 5_000 });
    const slow = await timed(db.rpc("faults_sleep", { p_ms: 3_000 }));
    expect(slow.error?.code).toBe("57014");
    expect(slow.error?.message).toBe("database call faults_sleep failed: canceling statement due to statement timeout (statement_timeout 300 ms, or a cancel request).");
    expect(slow.ms).toBeLessThan(2_500);
    // The timeout is the statement's own: the connection's next statement is not limited by it.
    const [setting] = await direct<{ statement_timeout: string }[]>`show statement_timeout`;
    expect(setting!.statement_timeout).toBe("0");
    expect(await db.rpc("faults_sleep", { p_ms: 0 })).toEqual({ slept: 0 });
  });
});

describe("runJob on a database that stops answering", () => {
  const job = defineJob({
    name: uniqueName("faults"),
    description: "freezes the database path while it runs",
    handler: async () => {
      proxy.freeze();
      return { froze: true };
    },
  });

  it("opening a run fails within the bound with a DbError", async () => {
    const deps = { ...testDeps([job]), db: proxiedDb() };
    expect((await ping(deps.db)).ok).toBe(true);
    proxy.freeze();
    const started = performance.now();
    const err = await runJob({ job: job.name, payload: {}, trigger: "cli" }, deps).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DbError);
    expect((err as DbError).fn).toBe("job_run_open");
    expect(performance.now() - started).toBeLessThan(FAILS_WITHIN_MS);
  });

  it("closing a run that hangs is bounded too: the run answers instead of hanging", async () => {
    const deps = { ...testDeps([job]), db: proxiedDb() };
    const started = performance.now();
    const outcome = await runJob({ job: job.name, payload: {}, trigger: "cli" }, deps).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(2 * FAILS_WITHIN_MS);
    // The work is done and keyed; a close that cannot land is logged, not turned into a failure.
    expect(outcome).toMatchObject({ status: "succeeded", stats: { froze: true } });
  });
});

describe("Supabase adapter: every request is bounded", () => {
  it("a frozen Data API fails the call within its bound, and a refused one says it could not be reached", async () => {
    const rest = await startPostgrest(testDatabaseUrl());
    const api = await startTcpProxy({ host: "127.0.0.1", port: Number(new URL(rest.url).port) });
    try {
      const db = createSupabaseDb(api.url(rest.url).replace(/\/$/, ""), rest.serviceRoleKey, { callMs: 1_000 });
      expect((await ping(db)).ok).toBe(true);
      api.freeze();
      const frozen = await timed(ping(db));
      expect(frozen.error?.code).toBe(DB_CALL_TIMEOUT);
      expect(frozen.error?.message).toBe(
        `database call cronlayer_ping failed: no answer from the Supabase Data API (http://127.0.0.1:${api.port}) within 1000 ms. Check the project's status and network.`,
      );
      expect(frozen.ms).toBeLessThan(FAILS_WITHIN_MS);

      api.restore();
      api.dropAll();
      api.refuse();
      const refused = await timed(ping(db));
      expect(refused.error?.message).toMatch(/^database call cronlayer_ping failed: could not reach the Supabase Data API \(http:\/\/127\.0\.0\.1:\d+\): .*ECONNRESET/);

      api.pass();
      expect((await ping(db)).ok).toBe(true);
    } finally {
      await api.close();
      await rest.close();
    }
  });
});
