import { cleanupCommand } from "@/lib/cli/commands/cleanup";
import { runCommand } from "@/lib/cli/main";
import { appRegistry, cliProgram } from "@/lib/cli/program";

await cliProgram("pnpm qstash:cleanup", "Delete every QStash schedule with our SCHEDULE_PREFIX, and nothing else.")
  .option("-y, --yes", "do not ask for confirmation (required when there is no terminal)")
  .option("--dry-run", "list what would be deleted")
  .option("--json", "machine-readable output")
  .action((opts) => runCommand(appRegistry, (ctx) => cleanupCommand(ctx, opts)))
  .parseAsync();
