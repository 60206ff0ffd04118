import { run } from "@/config/cli";
import { cliProgram } from "@/lib/cli/program";

const program = cliProgram("pnpm qstash:dlq", "QStash dead letters: messages whose retries ran out.");
program
  .command("list")
  .description("this deployment's dead letters (APP_URL), newest first")
  .option("--all", "every dead letter in the account")
  .option("--job <job>", "only this job")
  .option("--json", "machine-readable output")
  .action((opts) => run(() => import("@/lib/cli/commands/dlq"), (m, ctx) => m.dlqListCommand(ctx, opts)));
program
  .command("show <id>")
  .description("one dead letter: request, last response, body")
  .option("--json", "machine-readable output")
  .action((id: string, opts) => run(() => import("@/lib/cli/commands/dlq"), (m, ctx) => m.dlqShowCommand(ctx, id, opts)));
program
  .command("retry <id...>")
  .description("deliver again (each id gets a new message id)")
  .option("--json", "machine-readable output")
  .action((ids: string[], opts) => run(() => import("@/lib/cli/commands/dlq"), (m, ctx) => m.dlqActCommand(ctx, "retry", ids, opts)));
program
  .command("delete <id...>")
  .description("drop dead letters")
  .option("--json", "machine-readable output")
  .action((ids: string[], opts) => run(() => import("@/lib/cli/commands/dlq"), (m, ctx) => m.dlqActCommand(ctx, "delete", ids, opts)));
await program.parseAsync();
