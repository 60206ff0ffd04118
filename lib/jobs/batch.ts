import { ConfigError, RetryAfterError } from "../errors";

/** One claimed item's outcome: done, failed (counted, left for a later run), or released (never attempted). */
export type ItemResult<T, R> = { item: T; ok: true; value: R } | { item: T; ok: false; error: unknown } | { item: T; ok: false; released: true };

/** A rate limit or a configuration problem stops the batch; any other error belongs to its item. */
export const stopsBatch = (err: unknown) => err instanceof RetryAfterError || err instanceof ConfigError;

/**
 * Runs `work` over the items, at most `concurrency` at once. Once an item hits a rate limit or a
 * configuration error (or the run's signal aborts), no new item starts: unfinished ones are
 * released, and the stopping error is returned for the caller to throw after recording the page.
 */
export async function processItems<T, R>(
  items: readonly T[],
  work: (item: T) => Promise<R>,
  opts: {
    concurrency: number;
    signal?: AbortSignal;
    /** Asked before each item starts; what it throws stops the batch as the signal does (the run lost its lease). */
    guard?: () => void;
    onError?: (item: T, error: unknown) => void;
  },
): Promise<{ results: ItemResult<T, R>[]; stop?: unknown }> {
  const results: ItemResult<T, R>[] = new Array(items.length);
  let stop: unknown;
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      const item = items[i]!;
      if (stop === undefined && opts.signal?.aborted) stop = opts.signal.reason;
      if (stop === undefined && opts.guard) {
        try {
          opts.guard();
        } catch (err) {
          stop = err;
        }
      }
      if (stop !== undefined) {
        results[i] = { item, ok: false, released: true };
        continue;
      }
      try {
        results[i] = { item, ok: true, value: await work(item) };
      } catch (error) {
        if (stopsBatch(error)) {
          stop ??= error;
          results[i] = { item, ok: false, released: true };
        } else {
          results[i] = { item, ok: false, error };
          opts.onError?.(item, error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, items.length)) }, worker));
  return { results, stop };
}

/** A short, single-line description of an item's error for the database. */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
