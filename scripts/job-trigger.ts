import { run } from "@/config/cli";
import { cliProgram } from "@/lib/cli/program";

await cliProgram("pnpm job:trigger", "Ask the deployed app (APP_URL) to run a job, with Authorization: Bearer $CRON_SECRET.")
  .argument("<job>", "the job's name; scheduled jobs go to /api/cron/<job>, others to /api/jobs/<job>")
  .option("--payload <json>", "POST this JSON (without it: GET)")
  .option("--json", "machine-readable output")
  .addHelpText("after", "\nExit codes: 0 the app answered 2xx, 1 any other answer or no answer, 2 bad arguments.")
  .action((job: string, opts) => run(() => import("@/lib/cli/commands/job-trigger"), (m, ctx) => m.jobTriggerCommand(ctx, job, opts)))
  .parseAsync();
