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

/** Mean settle time of the first and the last tenth of the pages, in the order they settled. */
export function settleTenths(times: [number, number][]): { first: number; last: number; pages: number } {
  const sorted = [...times].sort((a, b) => a[0] - b[0]).map((t) => t[1]);
  const tenth = Math.max(1, Math.floor(sorted.length / 10));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { first: mean(sorted.slice(0, tenth)), last: mean(sorted.slice(-tenth)), pages: sorted.length };
}
