import { listCommand } from "@/lib/cli/commands/list";
import { runCommand } from "@/lib/cli/main";
import { appRegistry, cliProgram } from "@/lib/cli/program";

await cliProgram("pnpm qstash:list", "Our QStash schedules: cron in words, zone, next runs, paused, last states, drift from config/qstash.ts.")
  .option("--all", "also list the account's other schedules (other prefixes, made by hand)")
  .option("--json", "machine-readable output")
  .action((opts) => runCommand(appRegistry, (ctx) => listCommand(ctx, opts)))
  .parseAsync();
