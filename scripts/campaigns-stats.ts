import { cliProgram, run } from "@/lib/cli/program";

await cliProgram("pnpm campaigns:stats", "Per campaign: node runs by state, failure rate by error type, median lag between planned and actual execution.")
  .option("--campaign <id>", "only this campaign")
  .option("--json", "machine-readable output")
  .action((opts) => run(() => import("@/products/campaigns/cli/stats"), (m, ctx) => m.campaignsStatsCommand(ctx, opts)))
  .parseAsync();
