import { run } from "@/config/cli";
import { cliProgram } from "@/lib/cli/program";

await cliProgram("pnpm qstash:list", "Our QStash schedules: cron in words, zone, next runs, paused, last states, drift from config/qstash.ts.")
  .option("--all", "also list the account's other schedules (other prefixes, made by hand)")
  .option("--json", "machine-readable output")
  .action((opts) => run(() => import("@/lib/cli/commands/list"), (m, ctx) => m.listCommand(ctx, opts)))
  .parseAsync();
