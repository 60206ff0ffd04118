import { spawn } from "node:child_process";
import { Command, InvalidArgumentError } from "commander";

/**
 * `pnpm test:sim`: the exactly-once simulation (tests/sim) over more seeds than `pnpm test` runs,
 * or one schedule replayed from the seed and path a failure printed. It runs under vitest, on
 * the same real PostgreSQL and migrated database as the tests.
 */
const whole = (name: string) => (v: string) => {
  if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError(`${name} takes a whole number, got "${v}"`);
  return Number(v);
};

const opts = new Command("pnpm test:sim")
  .description("Explore interleavings of runs, faults and provider outcomes against the real SQL functions; check exactly-once after each.")
  .option("--seeds <n>", "how many schedules to run", whole("--seeds"), 1000)
  .option("--seed <n>", "the first seed (a failure prints it)", whole("--seed"))
  .option("--path <path>", "with --seed: replay exactly the schedule a failure printed")
  .option("--shrink-ms <ms>", "how long to shrink a failure", whole("--shrink-ms"), 60_000)
  .parse()
  .opts<{ seeds: number; seed?: number; path?: string; shrinkMs: number }>();

if (opts.path && opts.seed === undefined) {
  console.error("--path replays a schedule of one seed: give --seed too (both are in the failure's replay line).");
  process.exit(2);
}

// A new part of the space each time unless told: the seed is printed, so any run replays.
const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
console.log(`seed ${seed}${opts.path ? `, path ${opts.path}` : ""}`);
const started = Date.now();
const child = spawn("pnpm", ["exec", "vitest", "run", "tests/sim/exactly-once.test.ts"], {
  stdio: "inherit",
  env: {
    ...process.env,
    SIM_SEEDS: String(opts.path ? 1 : opts.seeds),
    SIM_SEED: String(seed),
    SIM_PATH: opts.path ?? "",
    SIM_SHRINK_MS: String(opts.shrinkMs),
  },
});
child.on("exit", (code) => {
  console.log(`${opts.path ? "replayed 1 schedule" : `${opts.seeds} schedule(s)`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exit(code ?? 1);
});
