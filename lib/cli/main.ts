import type { Env } from "../env";
import type { Registry } from "../jobs/registry";
import { createCliContext, loadCliEnv, type CliContext } from "./context";
import { EXIT, UsageError } from "./errors";
import { processIo } from "./io";

/**
 * The QStash SDK writes its own line to the console for every failed request; the command already
 * says what failed and what to do, so those lines are dropped (DEBUG=1 keeps them).
 */
function quietSdk() {
  if (process.env.DEBUG) return;
  const filtered = (original: (...args: unknown[]) => void) => (...args: unknown[]) => {
    if (typeof args[0] === "string" && args[0].startsWith("[Upstash QStash]")) return;
    original(...args);
  };
  console.warn = filtered(console.warn.bind(console));
  console.error = filtered(console.error.bind(console));
}

/**
 * What every script does around its command: env, context, one clear line on failure (no stack
 * trace for mistakes the operator can fix), the exit code, and closing what was opened.
 */
export async function runCommand(registry: (env: Env) => Registry | Promise<Registry>, command: (ctx: CliContext) => Promise<number>): Promise<void> {
  const io = processIo();
  quietSdk();
  let ctx: CliContext | undefined;
  try {
    const { env, databaseNote } = loadCliEnv();
    // A terminal gets warnings and errors; LOG_LEVEL=info shows every run event as the routes log them.
    ctx = createCliContext({ env, registry: await registry(env), io, logLevel: process.env.LOG_LEVEL ? env.logLevel : "warn", databaseNote });
    process.exitCode = await command(ctx);
  } catch (err) {
    const e = err as Error;
    io.err(`error: ${e.message}`);
    if (!(err instanceof UsageError) && e.name !== "EnvError" && e.name !== "ScheduleConfigError" && process.env.DEBUG) io.err(e.stack ?? "");
    process.exitCode = err instanceof UsageError ? EXIT.usage : EXIT.failed;
  } finally {
    await ctx?.close().catch(() => {});
  }
}
