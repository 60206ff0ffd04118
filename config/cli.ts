import type { Env } from "@/lib/env";
import type { CliContext } from "@/lib/cli/context";
import { runWith } from "@/lib/cli/program";

/**
 * The scripts' registry: the layer's jobs and the products their env enables (PRODUCTS from the
 * shell, .env.local or the running local stack), loaded when a command runs so `--help` answers
 * without the provider SDKs and a config mistake is reported, not thrown at import.
 */
export async function cliRegistry(env: Env) {
  const { composeRegistry, loadAppEnv } = await import("./app");
  return composeRegistry(loadAppEnv(env.source).products);
}

export function run<M>(load: () => Promise<M>, command: (m: M, ctx: CliContext) => Promise<number>): Promise<void> {
  return runWith(cliRegistry, load, command);
}
