import { Option } from "commander";
import { run } from "@/config/cli";
import { cliProgram } from "@/lib/cli/program";

await cliProgram("pnpm cron:next", "Next run times of a job or a cron, in UTC and in its zone, marking runs a DST change moves, skips or repeats.")
  .argument("<job-or-cron>", 'a scheduled job, or a quoted cron such as "30 1 * * *" (CRON_TZ=Zone prefix allowed)')
  .option("--tz <zone>", "a bare cron is read in this zone; for a job, times are also shown in it")
  .option("-n, --count <n>", "how many runs", "10")
  .addOption(new Option("--from <iso>", "start from this instant instead of now").hideHelp())
  .option("--json", "machine-readable output")
  .action((input: string, opts) => run(() => import("@/lib/cli/commands/cron-next"), (m, ctx) => m.cronNextCommand(ctx, input, opts)))
  .parseAsync();
