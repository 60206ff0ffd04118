import { Command, CommanderError } from "commander";
import type { Env } from "../env";
import type { Registry } from "../jobs/registry";
import type { CliContext } from "./context";
import { EXIT } from "./errors";

/**
 * A commander program with the exit codes the commands share: a mistake in the arguments exits 2
 * (as a bad payload does), --help exits 0.
 */
export function cliProgram(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .showHelpAfterError("(add --help for usage)")
    .exitOverride((err: CommanderError) => {
      process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
    });
}

/**
 * Runs a command with its module, the CLI runtime and the registry loaded only now: they pull in
 * the provider SDKs, and `--help` or a mistake in the arguments should answer without them.
 */
export async function runWith<M>(registry: (env: Env) => Registry | Promise<Registry>, load: () => Promise<M>, command: (m: M, ctx: CliContext) => Promise<number>): Promise<void> {
  const [{ runCommand }, mod] = await Promise.all([import("./main"), load()]);
  return runCommand(registry, (ctx) => command(mod, ctx));
}
