import { run } from "@/config/cli";
import { cliProgram } from "@/lib/cli/program";

await cliProgram("pnpm qstash:cleanup", "Delete every QStash schedule with our SCHEDULE_PREFIX, and nothing else.")
  .option("-y, --yes", "do not ask for confirmation (required when there is no terminal)")
  .option("--dry-run", "list what would be deleted")
  .option("--json", "machine-readable output")
  .action((opts) => run(() => import("@/lib/cli/commands/cleanup"), (m, ctx) => m.cleanupCommand(ctx, opts)))
  .parseAsync();
