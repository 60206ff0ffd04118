import { run } from "@/config/cli";
import { cliProgram } from "@/lib/cli/program";

// One script for both: `pnpm qstash:pause` and `pnpm qstash:resume` pass the verb first.
const resume = process.argv[2] === "resume";
const argv = [...process.argv.slice(0, 2), ...process.argv.slice(3)];
await cliProgram(`pnpm qstash:${resume ? "resume" : "pause"}`, resume ? "Resume every QStash schedule of a job." : "Pause every QStash schedule of a job (a zoned job has several); pnpm qstash:resume starts it again.")
  .argument("<job>", "a scheduled job")
  .option("--json", "machine-readable output")
  .action((job: string, opts: { json?: boolean }) => run(() => import("@/lib/cli/commands/pause"), (m, ctx) => m.pauseCommand(ctx, job, !resume, opts)))
  .parseAsync(argv);
