import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDb } from "../../lib/db/postgres";
import { DbError } from "../../lib/db/types";
import { testDatabaseUrl } from "../support/db";

// Many calls share one or two connections, so postgres.js pipelines them; tiny bounds and random
// aborts cancel them at every stage (queued, pipelined, running, just finished). Whatever is
// cancelled, a call that answers must answer with its own result.
const SEED = 20_261_207;
const PER_WAVE = 24;
// Waves run until both outcomes are common (a loaded machine answers fewer calls within the bound,
// so it runs more waves instead of proving less), between these two counts.
const MIN_WAVES = 30;
const MAX_WAVES = 400;
const ENOUGH = 40;

const direct = postgres(testDatabaseUrl(), { max: 1, onnotice: () => {} });

beforeAll(async () => {
  await direct.unsafe(`create or replace function public.crosstalk_echo(p_token text, p_ms integer) returns jsonb
    language sql as $$ select jsonb_build_object('token', p_token) from pg_sleep(p_ms / 1000.0) $$`);
});
afterAll(() => direct.end());

/** mulberry32: small, seeded, good enough to pick cases. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Outcome = { token: string; value?: unknown; error?: unknown };

async function call(db: ReturnType<typeof createPostgresDb>, token: string, rand: () => number): Promise<Outcome> {
  const ms = rand() < 0.5 ? 0 : Math.floor(rand() * 8);
  const abort = new AbortController();
  if (rand() < 0.5) setTimeout(() => abort.abort(new Error("lease lost")), Math.floor(rand() * 10)).unref();
  try {
    return { token, value: await db.rpc("crosstalk_echo", { p_token: token, p_ms: ms }, { signal: abort.signal }) };
  } catch (error) {
    return { token, error };
  }
}

describe("Postgres adapter: cancelled calls never answer another call", () => {
  it("a call cancelled while it waits behind another on its connection leaves the next call its own answer", async () => {
    const db = createPostgresDb(testDatabaseUrl(), { max: 1, connectMs: 1_000, callMs: 5_000, statementMs: null });
    try {
      await db.rpc("cronlayer_ping");
      const echo = (token: string, ms: number, signal?: AbortSignal) => db.rpc("crosstalk_echo", { p_token: token, p_ms: ms }, { signal });
      await echo("warm", 0); // reads the signature, so each call below is one query
      const abort = new AbortController();
      const a = echo("a", 200);
      const b = echo("b", 0, abort.signal).catch((e: unknown) => e);
      const c = echo("c", 0);
      // b is on the connection behind a (postgres.js pipelines) when it is cancelled.
      setTimeout(() => abort.abort(new Error("lease lost")), 50);
      expect(await Promise.all([a, b, c])).toEqual([{ token: "a" }, expect.any(DbError), { token: "c" }]);
    } finally {
      await db.close();
    }
  });

  it.each([1, 2])("every answer is the caller's own, with cancels firing constantly (pool of %i)", async (max) => {
    const rand = prng(SEED + max);
    const db = createPostgresDb(testDatabaseUrl(), { max, callMs: 100, connectMs: 1_000, statementMs: null });
    const outcomes: Outcome[] = [];
    try {
      const count = (answered: boolean) => outcomes.filter((o) => !o.error === answered).length;
      for (let w = 0; w < MAX_WAVES && (w < MIN_WAVES || count(true) < ENOUGH || count(false) < ENOUGH); w++) {
        const wave = Array.from({ length: PER_WAVE }, (_, i) => call(db, `t${max}-${w}-${i}`, rand));
        outcomes.push(...(await Promise.all(wave)));
      }
    } finally {
      await db.close();
    }
    const answered = outcomes.filter((o) => !o.error);
    const failed = outcomes.filter((o) => o.error);
    const wrong = answered.filter((o) => (o.value as { token?: string } | null)?.token !== o.token);
    const unclean = failed.filter((o) => !(o.error instanceof DbError));
    const sample = { wrong: wrong.slice(0, 3), unclean: unclean.slice(0, 3).map((o) => String(o.error)) };
    expect({ wrong: wrong.length, unclean: unclean.length, sample }).toEqual({ wrong: 0, unclean: 0, sample: { wrong: [], unclean: [] } });
    // Both outcomes must be common, or the run proved nothing about cancels.
    expect(answered.length).toBeGreaterThanOrEqual(ENOUGH);
    expect(failed.length).toBeGreaterThanOrEqual(ENOUGH);
  }, 120_000);
});
