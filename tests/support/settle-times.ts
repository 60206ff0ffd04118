/**
 * Page settle times of a job under a benchmark: each call of its finish function through `db.rpc`
 * is timed where the job makes it, so the first and the last tenth of a long run can be compared
 * (a settle that grows with the table shows as a last tenth slower than the first).
 */

/** Times each call of `fn` made through `db.rpc`: [started at, ms], into `into`. */
export function timeRpc<D extends { rpc: (fn: string, ...rest: never[]) => Promise<unknown> }>(db: D, fn: string, into: [number, number][]): D {
  const rpc = db.rpc.bind(db) as (name: string, ...rest: unknown[]) => Promise<unknown>;
  (db as { rpc: unknown }).rpc = async (name: string, ...rest: unknown[]) => {
    if (name !== fn) return rpc(name, ...rest);
    const t0 = performance.now();
    try {
      return await rpc(name, ...rest);
    } finally {
      into.push([t0, performance.now() - t0]);
    }
  };
  return db;
}

/**
 * Settle time of the first and the last tenth of the pages, in the order they settled: the mean,
 * and the median, which a fresh connection's first page or two (its catalog caches, its first
 * plans) do not move. Growth along a run shows in both.
 */
export function settleTenths(times: [number, number][]): { first: number; last: number; firstMedian: number; lastMedian: number; pages: number } {
  const sorted = [...times].sort((a, b) => a[0] - b[0]).map((t) => t[1]);
  const tenth = Math.max(1, Math.floor(sorted.length / 10));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  };
  const [first, last] = [sorted.slice(0, tenth), sorted.slice(-tenth)];
  return { first: mean(first), last: mean(last), firstMedian: median(first), lastMedian: median(last), pages: sorted.length };
}
