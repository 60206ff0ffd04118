import type postgres from "postgres";
import { cancelledCall, DB_CALL_TIMEOUT, type DbTimeouts } from "./timeouts";
import { DbError } from "./types";

type Exec = <R>(make: (sql: postgres.Sql) => postgres.PendingQuery<R & postgres.MaybeRow[]>) => Promise<R>;

/**
 * Runs one call's queries under its bounds: the call answers within `callMs`, or as soon as the
 * caller's signal aborts, whatever the socket does. The query in flight is cancelled on the
 * server; when it is stuck (no answer by the deadline, or none within `connectMs` of the cancel),
 * its pool is retired, since a frozen connection would hold every call queued behind it.
 */
export async function guardedCall<T>(
  fn: string,
  t: DbTimeouts,
  signal: AbortSignal | undefined,
  pool: () => postgres.Sql,
  retire: (stale: postgres.Sql) => void,
  body: (exec: Exec) => Promise<T>,
): Promise<T> {
  if (signal?.aborted) throw cancelledCall(fn, signal.reason);
  let active: { q: postgres.PendingQuery<postgres.Row[]>; pool: postgres.Sql; settled: boolean } | undefined;
  let halted = false;
  let stop!: (err: DbError) => void;
  const stopped = new Promise<never>((_, reject) => (stop = reject));
  stopped.catch(() => {});

  const halt = (err: DbError, stuck: boolean) => {
    if (halted) return;
    halted = true;
    stop(err);
    const a = active;
    if (!a || a.settled) return;
    cancelQuery(a.q);
    if (stuck) retire(a.pool);
    else setTimeout(() => a.settled || retire(a.pool), t.connectMs).unref();
  };
  const timer = setTimeout(
    () => halt(new DbError(fn, `no answer within ${t.callMs} ms: the database, or the network path to it, is stuck. The query was cancelled; check that the database is up and reachable.`, DB_CALL_TIMEOUT), true),
    t.callMs,
  );
  const onAbort = () => halt(cancelledCall(fn, signal!.reason), false);
  signal?.addEventListener("abort", onAbort, { once: true });

  const exec: Exec = (make) => {
    if (halted) return stopped;
    const a = { q: make(pool()) as unknown as postgres.PendingQuery<postgres.Row[]>, pool: pool(), settled: false };
    active = a;
    const settled = a.q.then(
      (v) => ((a.settled = true), v),
      (e: unknown) => {
        a.settled = true;
        throw e;
      },
    );
    return Promise.race([settled, stopped]) as never;
  };
  try {
    return await body(exec);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * `Query.cancel()` drops the promise of its cancel request, which rejects (unhandled, so the
 * process would crash) when the database cannot be reached: call postgres.js's canceller directly.
 */
function cancelQuery(q: postgres.PendingQuery<postgres.Row[]>) {
  const x = q as unknown as { canceller?: ((q: unknown) => Promise<void> | void) | null };
  const canceller = x.canceller;
  if (typeof canceller !== "function") return;
  x.canceller = null;
  Promise.resolve()
    .then(() => canceller(q))
    .catch(() => {});
}

/** The driver's error, with what it means where its own words do not say. */
export function describeDriverError(fn: string, err: unknown, t: DbTimeouts): DbError {
  const e = err as { message?: string; code?: string; address?: string; port?: number };
  const where = e.address ? `${e.address}${e.port ? `:${e.port}` : ""}` : "the database";
  const hints: Record<string, string> = {
    CONNECT_TIMEOUT: `could not connect to ${where} within ${t.connectMs} ms: the database does not answer. Check DATABASE_URL and that the database is up.`,
    ECONNREFUSED: `${e.message}: nothing accepts connections there. Check DATABASE_URL and that the database is running.`,
    ECONNRESET: `${e.message}: the database, or a proxy on the way, dropped the connection. The call can be retried.`,
    CONNECTION_CLOSED: `the connection to ${where} closed before the answer: the database restarted or a proxy dropped it. The call can be retried.`,
    CONNECTION_DESTROYED: `the connection to ${where} was abandoned before the answer (stuck, or the client closing). The call can be retried.`,
    CONNECTION_ENDED: `the database client is closed: no call can run on it any more.`,
    "57014": `${e.message} (statement_timeout ${t.statementMs} ms, or a cancel request).`,
  };
  const message = (e.code && hints[e.code]) || e.message || String(err);
  return new DbError(fn, message, e.code, { cause: err });
}
