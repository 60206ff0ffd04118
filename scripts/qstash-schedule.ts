import { Option } from "commander";
import { run } from "@/config/cli";
import { cliProgram } from "@/lib/cli/program";

await cliProgram("pnpm qstash:schedule", "Reconcile config/qstash.ts with QStash: print the plan (create / update / delete / unchanged), apply it, verify.")
  .option("--dry-run", "print the plan only")
  .option("--check", "print the plan and exit 2 when anything would change, 0 when in sync (CI gate); applies nothing")
  .addOption(new Option("--plan <plan>", "QStash plan whose limits to enforce: over its schedule limit nothing is applied (default: QSTASH_PLAN, else free against the cloud, none against a local server)").choices(["free", "payg", "none"]))
  .option("--json", "machine-readable output")
  .addHelpText("after", "\nSchedule ids are <SCHEDULE_PREFIX>-<job>; only ids with that prefix are ever changed or deleted.\nExit codes: 0 applied or already in sync, 1 failed or refused, 2 changes pending (--check) or bad arguments.")
  .action((opts) => run(() => import("@/lib/cli/commands/schedule"), (m, ctx) => m.scheduleCommand(ctx, opts)))
  .parseAsync();
