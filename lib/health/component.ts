import type { Env } from "../env";
import type { Check, ComponentName, ComponentResult, HealthContext } from "./types";

export interface Component {
  name: ComponentName;
  check: Check;
  /** What to look at when the check threw or timed out: the operator reads this at 3 a.m. */
  advice(env: Env, error: unknown): string;
}

export class CheckTimeoutError extends Error {
  override name = "CheckTimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/**
 * Runs one check under its own deadline. A hung dependency must cost the endpoint at most the
 * deadline, never the function's whole duration, so the check is raced and its signal aborted.
 */
export async function runCheck(c: Component, ctx: Omit<HealthContext, "signal">, timeoutMs: number): Promise<ComponentResult> {
  const ac = new AbortController();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new CheckTimeoutError(timeoutMs);
      ac.abort(err);
      reject(err);
    }, timeoutMs);
  });
  try {
    const { status, message, details } = await Promise.race([c.check({ ...ctx, signal: ac.signal }), deadline]);
    const latencyMs = status === "not_configured" ? null : elapsed();
    return details ? { status, latencyMs, message, details } : { status, latencyMs, message };
  } catch (err) {
    return { status: "down", latencyMs: elapsed(), message: `${messageOf(err)}. ${c.advice(ctx.deps.env, err)}` };
  } finally {
    clearTimeout(timer);
  }
}

/** The most specific text an error carries: fetch hides the socket error in `cause`. */
export function messageOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause : undefined;
  // An AggregateError (every address refused) has an empty message but a code.
  const why = cause ? cause.message || (cause as { code?: string }).code || "" : "";
  const inner = why && !err.message.includes(why) ? `: ${why}` : "";
  return `${err.message}${inner}`.replace(/\.$/, "");
}
