/**
 * The data port. Every data change is one SQL function in a migration that returns `jsonb`, so
 * both adapters return exactly the value the function built: no adapter-specific row shapes.
 */
export interface RpcOptions {
  /** Cancels the call (the run's signal): postgres.js cancels the query, supabase-js aborts the request. */
  signal?: AbortSignal;
}

export interface Db {
  readonly kind: "postgres" | "supabase";
  rpc<T = unknown>(fn: string, args?: Record<string, unknown>, opts?: RpcOptions): Promise<T>;
  /** A round trip that proves the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class DbError extends Error {
  override name = "DbError";
  constructor(
    readonly fn: string,
    message: string,
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(`database call ${fn} failed: ${message}`, options);
  }
}

export const FN_NAME = /^[a-z_][a-z0-9_]*$/;
export const ARG_NAME = /^[a-z_][a-z0-9_]*$/;

export function checkCall(fn: string, args: Record<string, unknown>) {
  if (!FN_NAME.test(fn)) throw new DbError(fn, "function names are lower-case identifiers");
  for (const k of Object.keys(args)) if (!ARG_NAME.test(k)) throw new DbError(fn, `argument "${k}" is not a lower-case identifier`);
}
