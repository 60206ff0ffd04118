import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { testDatabaseUrl } from "../support/db";
import { testEnv } from "../support/app";
import { explore } from "./explore";

/**
 * The exactly-once promise as a property over seeded schedules of runs, faults and steps
 * (tests/sim). `pnpm test` runs a bounded number; `pnpm test:sim --seeds N` runs more, and
 * `pnpm test:sim --seed S --path P` replays one.
 */
const SEEDS = Number(process.env.SIM_SEEDS || 120);
// `pnpm test` runs the same schedules every time (seed 1): a red CI is a real regression, not bad luck.
const SEED = process.env.SIM_SEED ? Number(process.env.SIM_SEED) : 1;
const PATH = process.env.SIM_PATH || undefined;
const SHRINK_MS = Number(process.env.SIM_SHRINK_MS ?? 20_000);

const sql = postgres(testDatabaseUrl(), { max: 1, onnotice: () => {} });
afterAll(() => sql.end());

describe("exactly once under every interleaving", () => {
  it(`holds over ${SEEDS} seeded schedules`, { timeout: SEEDS * 5_000 + SHRINK_MS * 2 + 60_000 }, async () => {
    const { runs } = await explore(sql, testEnv(), { seeds: SEEDS, seed: SEED, path: PATH, shrinkMs: SHRINK_MS });
    expect(runs).toBe(PATH ? 1 : SEEDS);
  });
});
