import fc from "fast-check";
import type postgres from "postgres";
import type { Env } from "../../lib/env";
import { check } from "./invariants";
import { simulate, type Draw } from "./scenario";

export interface Exploration {
  seeds: number;
  seed?: number;
  path?: string;
  /** How long to shrink a failure before reporting the smallest schedule found so far. */
  shrinkMs?: number;
}

/** fast-check's generator as the simulation's randomness: each draw shrinks towards fewer faults and the first step waiting. */
function drawOf(g: fc.GeneratorValue): Draw {
  return {
    int: (max) => (max <= 0 ? 0 : g(fc.integer, { min: 0, max })),
    chance: (p) => g(fc.integer, { min: 0, max: 999 }) >= 1000 - p * 1000,
  };
}

/**
 * Runs `seeds` schedules; on a violation, shrinks it and throws with the smallest schedule found,
 * its violations, the end of its trace and the command that replays it.
 */
export async function explore(sql: postgres.Sql, env: Env, opts: Exploration): Promise<{ runs: number }> {
  let last: { violations: string[]; trace: string[] } | undefined;
  const property = fc.asyncProperty(fc.gen(), async (g) => {
    await sql`truncate effects, job_runs, job_messages, used_signatures`;
    // The backoff's jitter is PostgreSQL's random(): seeded, so a schedule replays exactly.
    await sql`select setseed(0.5)`;
    const state = await simulate(sql, env, drawOf(g), { faults: true });
    const violations = await check(sql, state);
    if (violations.length) {
      last = { violations, trace: state.world.trace };
      return false;
    }
    return true;
  });
  const found = await fc.check(property, { numRuns: opts.seeds, seed: opts.seed, path: opts.path, endOnFailure: true });
  if (found.failed) {
    const first = { seed: found.seed, path: found.counterexamplePath!, runs: found.numRuns };
    // Shrinking replays the schedule many times: bounded, and reported even when cut short.
    const shrunk = await fc.check(property, { seed: first.seed, path: first.path, endOnFailure: false, interruptAfterTimeLimit: opts.shrinkMs ?? 20_000 });
    throw new Error(
      [
        `exactly-once violated at schedule ${first.runs} of ${opts.seeds} (seed ${first.seed}); below, the smallest schedule found in ${shrunk.numShrinks} shrink(s)`,
        `replay: pnpm test:sim --seed ${first.seed} --path ${first.path}`,
        ...(last?.violations ?? [String(found.errorInstance)]),
        "trace (last 40 steps):",
        ...(last?.trace.slice(-40) ?? []),
      ].join("\n  "),
    );
  }
  const details = found;
  return { runs: details.numRuns };
}
