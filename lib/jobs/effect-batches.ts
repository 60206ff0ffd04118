import { createHash } from "node:crypto";
import { NonRetryableError, ProviderError } from "../errors";
import { errorText, stopsBatch } from "./batch";
import type { JobContext } from "./define";
import { outcomeOf, type EffectCounts, type Outcome } from "./effects";

/** What the provider said about one item of a batch: made (its value), refused (not made), or nothing (unknown). */
export type BatchItemAnswer<R> = { value: R } | { rejected: string } | undefined;

export interface EffectBatchOptions<T, R> {
  /** The page of due items (as runEffects), at most `limit`. */
  due: (page: { after: T | undefined; limit: number }) => Promise<T[]>;
  key: (item: T) => string;
  subject?: (item: T) => string;
  /** One request for the batch, the items in order under one idempotency key; the answer per item, in order. */
  send: (items: T[], idempotencyKey: string) => Promise<BatchItemAnswer<R>[]>;
  /**
   * The items of a recorded batch again, by effect key in its order, exactly as they were first
   * sent (whether still wanted or not: the replay asks what happened, it must repeat the request),
   * undefined where one can no longer be built. Resend replays its first answer only to the same
   * request under the same key.
   */
  rebuild: (keys: string[]) => Promise<(T | undefined)[]>;
  /** An effect recorded as sent alone under its own key (before batches): asked again the same way. */
  single?: (item: T, key: string) => Promise<R>;
  /** How long the provider replays a request by its key (Resend: 24 h). An older lost batch is left for a person. */
  replayWindowMs: number;
  result?: (value: R, item: T) => unknown;
  finish?: string;
  /** Items per page and per request (Resend: at most 100). */
  batchSize?: number;
  maxAttempts?: number;
  backoffMs?: number;
  leaseMs?: number;
}

interface Claim<T> {
  item: T;
  key: string;
  attempt: number;
  reconcile: boolean;
}
type Row = { key: string; outcome: Outcome; result?: unknown; error?: string };

/**
 * runEffects for providers that take a batch per request: a page is claimed, sent as one request
 * per `batchSize` items and settled in one call. Batches whose answer was lost are sent again
 * first, the same request under the same key (the provider answers it as it did the first time
 * and sends nothing new), before anything new goes out.
 */
export async function runEffectBatches<T, R>(ctx: JobContext<unknown>, opts: EffectBatchOptions<T, R>): Promise<EffectCounts & { requests: number }> {
  const { db, run, now, signal } = ctx;
  const size = opts.batchSize ?? 100;
  const counts = { succeeded: 0, failed: 0, unknown: 0, abandoned: 0, released: 0, reconciled: 0, skipped: 0, retryAt: undefined as Date | undefined, requests: 0 };
  let after: T | undefined;
  for (;;) {
    signal.throwIfAborted();
    const items = await opts.due({ after, limit: size });
    if (!items.length) break;
    after = items[items.length - 1];
    const byKey = new Map(items.map((item) => [opts.key(item), item]));
    const claims = (
      await db.rpc<{ key: string; attempt: number; reconcile: boolean }[]>("effects_claim", {
        p_job: run.job,
        p_run_id: run.id,
        p_now: now,
        p_lease_ms: opts.leaseMs ?? 15 * 60_000,
        p_items: items.map((item) => ({ key: opts.key(item), subject: opts.subject?.(item), max_attempts: opts.maxAttempts ?? 8 })),
      }) ?? []
    ).map((c): Claim<T> => ({ ...c, item: byKey.get(c.key)! }));
    counts.skipped += byKey.size - claims.length;

    const unsure = claims.filter((c) => c.reconcile).map((c) => ({ key: c.key, attempt: c.attempt }));
    const recorded = unsure.length
      ? await db.rpc<{ effect: string; key: string; keys: string[]; single: boolean; created_at: string }[]>("effect_batches_of", { p_job: run.job, p_claims: unsure })
      : [];
    const replays = new Map<string, { keys: string[]; single: boolean; at: number; mine: Claim<T>[] }>();
    for (const r of recorded) {
      const b = replays.get(r.key) ?? { keys: r.keys, single: r.single, at: Date.parse(r.created_at), mine: [] };
      b.mine.push(claims.find((c) => c.key === r.effect)!);
      replays.set(r.key, b);
    }
    // An unknown effect whose attempt recorded no batch never went out: it is new again.
    const inReplay = new Set(recorded.map((r) => r.effect));
    const fresh = claims.filter((c) => !inReplay.has(c.key));
    const batches: { key: string; claims: Claim<T>[] }[] = [];
    for (let i = 0; i < fresh.length; i += size) batches.push(batchOf(run.job, fresh.slice(i, i + size)));
    // Written before any request leaves: a run that dies after this knows what it may have sent.
    if (batches.length) {
      await db.rpc("effect_batches_record", {
        p_job: run.job,
        p_run_id: run.id,
        p_now: now,
        p_batches: batches.map((b) => ({ key: b.key, keys: b.claims.map((c) => c.key), attempts: b.claims.map((c) => c.attempt) })),
      });
    }

    const rows: Row[] = [];
    const send = (batch: T[], key: string) => (counts.requests++, opts.send(batch, key));
    let stop: unknown;
    const guard = () => {
      if (stop === undefined && signal.aborted) stop = signal.reason;
      if (stop === undefined) {
        try {
          ctx.lease.check();
        } catch (err) {
          stop = err;
        }
      }
      return stop === undefined;
    };
    const attempt = async (mine: Claim<T>[], replay: boolean, request: () => Promise<BatchItemAnswer<R>[] | undefined>, keys: string[]) => {
      if (!guard()) return void rows.push(...mine.map((c) => ({ key: c.key, outcome: "released" as const })));
      let answers: BatchItemAnswer<R>[] | undefined;
      try {
        answers = await request();
      } catch (err) {
        if (stopsBatch(err)) {
          stop ??= err;
          return void rows.push(...mine.map((c) => ({ key: c.key, outcome: "released" as const })));
        }
        // A replay that fails for any reason, or a request the provider calls a conflict (its key is
        // in use), leaves the batch as uncertain as it was.
        const outcome = err instanceof StaleBatchError ? "abandoned" : replay || (err instanceof ProviderError && err.status === 409) ? "unknown" : outcomeOf(err);
        ctx.log.warn("effect.batch_failed", { keys: mine.length, replay, error: errorText(err) });
        return void rows.push(...mine.map((c) => ({ key: c.key, outcome, error: errorText(err) })));
      }
      for (const c of mine) {
        const a = answers?.[keys.indexOf(c.key)];
        if (a === undefined) rows.push({ key: c.key, outcome: "unknown", error: "the provider's answer did not mention it" });
        else if ("rejected" in a) rows.push({ key: c.key, outcome: "abandoned", error: `the provider refused it: ${a.rejected}` });
        else {
          if (replay) counts.reconciled++;
          rows.push({ key: c.key, outcome: "succeeded", result: opts.result ? opts.result(a.value, c.item) : (a.value ?? null) });
        }
      }
    };

    for (const [key, b] of replays) {
      await attempt(b.mine, true, async () => {
        if (now.getTime() - b.at > opts.replayWindowMs) throw new StaleBatchError(key);
        const rebuilt = await opts.rebuild(b.keys);
        if (rebuilt.some((x) => x === undefined)) throw new Error(`batch ${key} cannot be rebuilt as it was sent (a recipient is gone), so it cannot be asked again`);
        if (!b.single) return send(rebuilt as T[], key);
        if (!opts.single) throw new Error(`${key} was sent alone and this job cannot send one alone`);
        counts.requests++;
        return [{ value: await opts.single(rebuilt[0]!, key) }];
      }, b.keys);
    }
    for (const b of batches) {
      const keys = b.claims.map((c) => c.key);
      await attempt(b.claims, false, () => send(b.claims.map((c) => c.item), b.key), keys);
    }
    // Not with the run's signal: what completed is recorded even when the run is stopped (runEffects).
    const settled = await ctx.settleDb.rpc<Partial<Record<Outcome, number>>>(opts.finish ?? "effects_finish", {
      p_run_id: run.id,
      p_now: now,
      p_results: rows,
      p_backoff_ms: opts.backoffMs ?? 60_000,
    });
    for (const o of ["succeeded", "failed", "unknown", "abandoned", "released"] as const) counts[o] += settled[o] ?? 0;
    if ((settled.failed ?? 0) + (settled.unknown ?? 0) > 0) await ctx.settleDb.rpc("effect_batches_retry_together", { p_run_id: run.id, p_keys: claims.map((c) => c.key) });
    if (stop !== undefined) throw stop;
    if (items.length < size) break;
  }
  const next = await db.rpc<string | null>("effects_next_attempt", { p_job: run.job, p_now: now, p_run_id: run.id });
  counts.retryAt = next ? new Date(next) : undefined;
  if (counts.retryAt) await ctx.runAgainAt(counts.retryAt);
  return counts;
}

/**
 * The request's idempotency key: the job and a hash of its effects' keys and attempts, in order.
 * The same claims give the same key; an effect tried again after it was not made gets a new one.
 */
function batchOf<T>(job: string, claims: Claim<T>[]) {
  const h = createHash("sha256");
  for (const c of claims) h.update(`${c.key}#${c.attempt}\n`);
  return { key: `batch:${job}:${h.digest("base64url")}`, claims };
}

/** A lost batch older than the provider's memory of its key: sending it again would send it again. */
class StaleBatchError extends NonRetryableError {
  override name = "StaleBatchError";
  constructor(key: string) {
    super(`batch ${key}: its answer was lost and the provider no longer remembers its key (24 h), so asking again would send it again; check with the provider`);
  }
}
