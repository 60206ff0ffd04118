import type { Db, RpcOptions } from "../db/types";

/**
 * The database as a handler sees it: every call carries the run's signal unless the caller passes
 * its own, so a run past its timeout stops waiting on the database instead of running on unseen.
 */
export function dbWithSignal(db: Db, signal: AbortSignal): Db {
  return {
    kind: db.kind,
    rpc<T>(fn: string, args?: Record<string, unknown>, opts?: RpcOptions): Promise<T> {
      return db.rpc<T>(fn, args, { ...opts, signal: opts?.signal ?? signal });
    },
    ping: () => db.ping(),
    close: () => db.close(),
  };
}
