import { run } from "@/config/cli";
import { cliProgram } from "@/lib/cli/program";

await cliProgram("pnpm job:run", "Run a job in this process: same context and ledger as the routes (trigger cli).")
  .argument("<job>", "the job's name (a product's `jobs` in products/<name>/index.ts, or the layer's in jobs/system)")
  .option("--payload <json>", "the job's payload as JSON, checked with its schema")
  .option("--in-process", "run what the job fans out in this process (no QStash, no app), at the same flow control; also CRONLAYER_FANOUT=inline")
  .option("--timeout <duration>", "this run's timeout instead of the job's, e.g. 90m (in-process, a planner runs as long as its sends)")
  .option("--dry-run", "show the job, the parsed payload and its settings; open no run")
  .option("--json", "machine-readable output")
  .addHelpText("after", "\nExit codes: 0 succeeded (or skipped: another run holds the lease), 1 failed, 2 bad job name or payload.")
  .action((job: string, opts: { inProcess?: boolean }) => {
    // The flag is the variable: the env then asks for no QStash keys (lib/env.ts), as CRONLAYER_FANOUT=inline does.
    if (opts.inProcess) process.env.CRONLAYER_FANOUT = "inline";
    return run(() => import("@/lib/cli/commands/job-run"), (m, ctx) => m.jobRunCommand(ctx, job, opts));
  })
  .parseAsync();
