import { NonRetryableError, ProviderError, TimeoutError } from "../errors";
import { errorText, processItems, stopsBatch, type ItemResult } from "./batch";
import type { JobContext } from "./define";
import { EffectPages, type Claimed, type Effect } from "./effect-pages";
import { LeaseLostError } from "./lease";

export type { Effect } from "./effect-pages";

const OUTCOMES = ["succeeded", "failed", "unknown", "abandoned", "released"] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface EffectCounts {
  succeeded: number;
  failed: number;
  unknown: number;
  abandoned: number;
  released: number;
  /** Found at the provider by `reconcile` instead of being made again. */
  reconciled: number;
  /** Offered but not claimed: done already, held by another run, or not due again yet. */
  skipped: number;
  /** When the job's next failed or unknown effect is due again, if any. */
  retryAt: Date | undefined;
}

export interface EffectOptions<T, R> {
  /** The page of due items after `after` (the previous page's last item), at most `limit` of them. */
  due: (page: { after: T | undefined; limit: number }) => Promise<T[]>;
  /** The effect's key: what makes it unique (`transfer:<payment>`). The same key is the provider's idempotency key. */
  key: (item: T) => string;
  /** The job's own id of what the effect is about, kept with the effect (its finish function joins on it). */
  subject?: (item: T) => string;
  work: (item: T, effect: Effect) => Promise<R>;
  /**
   * Asked before an effect whose outcome is unknown is tried again: the provider's record of it
   * if it was made (then it counts as succeeded and `work` is not called), undefined if not.
   */
  reconcile?: (item: T, effect: Effect) => Promise<R | undefined>;
  /**
   * What a lost answer (a timeout, a 5xx, a run that died holding the claim) means when the effect
   * is due again and there is no `reconcile` to look it up. Each job declares it for its providers:
   * - "retry-with-key": the provider keeps the first request per idempotency key (Resend, Novu,
   *   Stripe within 24 h; a QStash deduplication id), so asking again makes nothing twice;
   * - "retry": a possible duplicate is preferred to a lost effect (an alert, a token refresh);
   * - "abandon" (the default): the effect is `abandoned` for a person to check with the provider,
   *   never tried blindly again.
   */
  onUnknown?: "retry-with-key" | "retry" | "abandon";
  /** What to keep of a result (the provider's ids). Default: the result as it is. */
  result?: (value: R, item: T) => unknown;
  /** A SQL function (p_run_id, p_now, p_results, p_backoff_ms) that settles the page and records it in the job's tables. */
  finish?: string;
  pageSize?: number;
  concurrency?: number;
  /** Attempts before an effect is abandoned (default 8), for the job or per item. */
  maxAttempts?: number | ((item: T) => number);
  /** The first retry waits about this long; each next one twice as long (at most 6 hours). */
  backoffMs?: number;
  /** How long a claim holds if its run neither finishes nor closes (a run that closed frees its claims at once). */
  leaseMs?: number;
  /**
   * Claim the next page and settle the last one while a page is worked: the database's work and
   * the job's overlap (a third faster on 100,000 reminders, bench/README.md). Only for a `due` that pages by `after`
   * alone (never by what this run's earlier pages did) and a job whose unknown effects are looked
   * up or retried by key: if the run dies, the page it claimed ahead and never started is taken
   * over as unknown, like any claim of a dead run.
   */
  lookahead?: boolean;
}

/** A live run's handler ends within its timeout plus the settle grace (lease.ts): 300 s + 10 min. */
const DEFAULT_LEASE_MS = 15 * 60_000;

/**
 * The one way a job makes side effects exactly once in effect. Page by page: the job's due items
 * are claimed by key in SQL, worked with bounded concurrency, and settled in one call. A rate
 * limit or a configuration error stops the run after its page is settled (what did not start is
 * released); the run's signal stops it the same way. With `lookahead`, the next page is claimed
 * and the last one settled while a page is worked (effect-pages.ts).
 */
export async function runEffects<T, R>(ctx: JobContext<unknown>, opts: EffectOptions<T, R>): Promise<EffectCounts> {
  const { db, run, now, signal, log } = ctx;
  const limit = opts.pageSize ?? 100;
  const counts: EffectCounts = { succeeded: 0, failed: 0, unknown: 0, abandoned: 0, released: 0, reconciled: 0, skipped: 0, retryAt: undefined };
  const pages = new EffectPages<T>(ctx, {
    limit,
    lookahead: opts.lookahead ?? false,
    due: opts.due,
    claim: (items) => claimItems(ctx, opts, items),
    settle: async (rows, page) => {
      // Not with the run's signal: a run stopped by its timeout still records what it did and
      // releases what it never started, or the next run would make those effects again.
      const settled = await ctx.settleDb.rpc<Partial<Record<Outcome, number>>>(opts.finish ?? "effects_finish", {
        p_run_id: run.id,
        p_now: now,
        p_results: rows,
        p_backoff_ms: opts.backoffMs ?? 60_000,
      });
      // The run page's timeline: effects' own times are the run's `now`, not when each page was settled.
      log.info("effects.page", { offered: page.offered, claimed: page.claims.length, settled });
      // Counted as settled, not as sent: a failure past its last attempt is abandoned.
      for (const o of OUTCOMES) counts[o] += settled[o] ?? 0;
    },
  });
  await pages.run(async (page) => {
    counts.skipped += page.offered - page.claims.length;
    const { results, stop } = await processItems(
      page.claims,
      async (c) => {
        if (c.reconcile && opts.reconcile) {
          const found = await lookUp(() => opts.reconcile!(c.item, c.effect));
          if (found !== undefined) {
            counts.reconciled++;
            return found;
          }
        } else if (c.reconcile && (opts.onUnknown ?? "abandon") === "abandon") {
          throw new UnknownOutcomeError(c.effect.key);
        }
        // The fence again: a reconciliation may have taken a while.
        ctx.lease.check();
        return opts.work(c.item, c.effect);
      },
      {
        concurrency: opts.concurrency ?? 4,
        signal,
        guard: () => ctx.lease.check(),
        onError: (c, error) => log.warn("effect.failed", { key: c.effect.key, attempt: c.effect.attempt, error: errorText(error) }),
      },
    );
    return { rows: results.map((r) => settleRow(r, opts)), stop };
  });
  // This run's failures may want a run before the job's next tick (earlier runs asked for their own).
  const next = await db.rpc<string | null>("effects_next_attempt", { p_job: run.job, p_now: now, p_run_id: run.id });
  counts.retryAt = next ? new Date(next) : undefined;
  if (counts.retryAt) await ctx.runAgainAt(counts.retryAt);
  return counts;
}

/** Claims what it can of a page's items for this run: [{item, effect, reconcile}] in the order given. */
async function claimItems<T, R>(ctx: JobContext<unknown>, opts: EffectOptions<T, R>, items: T[]): Promise<Claimed<T>[]> {
  const maxAttempts = (item: T) => (typeof opts.maxAttempts === "function" ? opts.maxAttempts(item) : (opts.maxAttempts ?? 8));
  const claims = await ctx.db.rpc<{ key: string; attempt: number; reconcile: boolean }[]>("effects_claim", {
    p_job: ctx.run.job,
    p_run_id: ctx.run.id,
    p_now: ctx.now,
    p_lease_ms: opts.leaseMs ?? DEFAULT_LEASE_MS,
    p_items: items.map((item) => ({ key: opts.key(item), subject: opts.subject?.(item), max_attempts: maxAttempts(item) })),
  });
  const byKey = new Map(items.map((item) => [opts.key(item), item]));
  return claims.map((c) => ({ item: byKey.get(c.key)!, effect: { key: c.key, attempt: c.attempt }, reconcile: c.reconcile }));
}

/** An effect that may have been made, with no record to check and no key that makes a retry safe. */
class UnknownOutcomeError extends NonRetryableError {
  override name = "UnknownOutcomeError";
  constructor(key: string) {
    super(`${key}: an earlier attempt may have made it (its answer was lost), and this job can neither look it up at the provider nor retry it safely; check with the provider`);
  }
}

/** A reconciliation that failed: whatever it failed with, the effect may still have been made. */
class ReconcileError extends Error {
  override name = "ReconcileError";
}

async function lookUp<R>(find: () => Promise<R>): Promise<R> {
  try {
    return await find();
  } catch (err) {
    // A rate limit or a rejected key still stops the run; anything else leaves the outcome unknown,
    // so the next attempt asks again before it acts (settled as failed, it would act blindly).
    if (stopsBatch(err)) throw err;
    throw new ReconcileError(`could not check whether it was made, still unknown: ${errorText(err)}`, { cause: err });
  }
}

/**
 * What an error says about the effect: a rejection (4xx, a bug before the call) means it was not
 * made; a timeout, a network error or a 5xx means it may have been; a non-retryable error needs
 * a person.
 */
export function outcomeOf(error: unknown): Exclude<Outcome, "succeeded" | "released"> {
  if (error instanceof ReconcileError) return "unknown";
  // Fenced in the middle of an item: what it asked of a provider before may have been made.
  if (error instanceof LeaseLostError) return "unknown";
  if (error instanceof NonRetryableError) return "abandoned";
  if (error instanceof TimeoutError) return "unknown";
  if (error instanceof ProviderError) return error.status === undefined || error.status >= 500 ? "unknown" : "failed";
  if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError")) return "unknown";
  return "failed";
}

function settleRow<T, R>(r: ItemResult<Claimed<T>, R>, opts: EffectOptions<T, R>) {
  const key = r.item.effect.key;
  if (r.ok) return { key, outcome: "succeeded" as const, result: opts.result ? opts.result(r.value, r.item.item) : (r.value ?? null) };
  if ("released" in r) return { key, outcome: "released" as const };
  return { key, outcome: outcomeOf(r.error), error: errorText(r.error) };
}
