import { run } from "@/config/cli";
import { cliProgram } from "@/lib/cli/program";

await cliProgram("pnpm qstash:stats", "Per job, from the ledger: runs, outcomes, success rate, p50/p95 duration, p95 lag, last run, missed ticks, and the DLQ count from QStash.")
  .option("--since <window>", "how far back: 30m, 24h, 7d ...", "24h")
  .option("--job <job...>", "only these jobs")
  .option("--json", "machine-readable output")
  .action((opts) => run(() => import("@/lib/cli/commands/stats"), (m, ctx) => m.statsCommand(ctx, opts)))
  .parseAsync();
