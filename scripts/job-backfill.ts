import { run } from "@/config/cli";
import { cliProgram } from "@/lib/cli/program";

await cliProgram("pnpm job:backfill", "Run a scheduled job once for each of its slots in a past range, through QStash, one slot at a time.")
  .argument("<job>", "a scheduled job's name")
  .requiredOption("--from <instant>", "first instant of the range (included): 2026-12-01 or 2026-12-01T18:00 in the schedule's zone, or ISO with a zone")
  .requiredOption("--to <instant>", "end of the range (excluded), not in the future")
  .option("--dry-run", "show the plan, publish nothing")
  .option("-y, --yes", "do not ask for confirmation (required when there is no terminal)")
  .option("--max <slots>", "refuse a range with more slots than this", "1000")
  .option("--json", "machine-readable plan and result")
  .addHelpText("after", "\nSlots that already have a succeeded run are shown and left alone, so repeating a backfill publishes nothing.\nExit codes: 0 published (or nothing to do), 1 publishing failed or not confirmed, 2 bad arguments or a refused range.")
  .action((job: string, opts) => run(() => import("@/lib/cli/commands/backfill"), (m, ctx) => m.backfillCommand(ctx, job, opts)))
  .parseAsync();
