import { DbError } from "./types";

/**
 * Bounds on every wait for the database, so a request never outlives its job's bound: a dead,
 * refusing or frozen database fails a call within `callMs` instead of hanging it.
 */
export interface DbTimeouts {
  /** One new connection: TCP, TLS and authentication (Postgres adapter). */
  connectMs: number;
  /**
   * Server-side bound on one statement, sent with the statement itself (`set local`), so it holds
   * behind transaction-mode poolers too. `null` leaves the server's own setting.
   */
  statementMs: number | null;
  /** Client-side bound on one call end to end: waiting for a connection, the statement, the answer. */
  callMs: number;
  /** An idle pooled connection is closed after this (Postgres adapter). */
  idleMs: number;
  /** Cap on the wait between reconnect attempts, so a database that comes back serves at once. */
  maxBackoffMs: number;
}

export const DEFAULT_DB_TIMEOUTS: Readonly<DbTimeouts> = Object.freeze({
  connectMs: 5_000,
  statementMs: 10_000,
  // A call may have to connect before its statement runs: both bounds, and nothing more.
  callMs: 15_000,
  idleMs: 20_000,
  maxBackoffMs: 1_000,
});

/** The defaults with the given overrides; an override left undefined keeps its default. */
export function dbTimeouts(overrides: Partial<DbTimeouts> = {}): DbTimeouts {
  const t: DbTimeouts = { ...DEFAULT_DB_TIMEOUTS };
  for (const k of Object.keys(t) as (keyof DbTimeouts)[]) {
    const v = overrides[k];
    if (v !== undefined) (t as unknown as Record<string, unknown>)[k] = v;
  }
  return t;
}

/** Error codes of the calls the client itself gave up on (the others are SQLSTATEs or driver codes). */
export const DB_CALL_TIMEOUT = "CALL_TIMEOUT";
export const DB_CALL_CANCELLED = "CALL_CANCELLED";

/** The caller's signal aborted the call (the run's timeout, a shutdown): the reason says which. */
export function cancelledCall(fn: string, reason: unknown, cause: unknown = reason): DbError {
  const why = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason ?? "aborted");
  return new DbError(fn, `cancelled by the caller before the database answered (${why})`, DB_CALL_CANCELLED, { cause });
}
