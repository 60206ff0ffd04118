import { createClient } from "@supabase/supabase-js";
import { argValue } from "./params";
import { cancelledCall, DB_CALL_TIMEOUT, dbTimeouts, type DbTimeouts } from "./timeouts";
import { checkCall, DbError, type Db, type RpcOptions } from "./types";

export interface SupabaseDbOptions extends Partial<Pick<DbTimeouts, "callMs">> {
  fetch?: typeof fetch;
}

/**
 * supabase-js over HTTP (PostgREST `rpc`): the production default on Vercel, since serverless
 * functions then hold no database connections to exhaust. Each request is bounded by `callMs`
 * (connect, the statement behind it, the answer) and by the caller's signal.
 */
export function createSupabaseDb(url: string, serviceRoleKey: string, opts: SupabaseDbOptions = {}): Db {
  const { callMs } = dbTimeouts(opts);
  const client = createClient(url, serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: opts.fetch ? { fetch: opts.fetch } : undefined,
    // Realtime is never used; plain Node 20 has no global WebSocket, so give it an inert one.
    realtime: { transport: (globalThis.WebSocket ?? NoSocket) as never },
  });

  async function call<T>(fn: string, args: Record<string, unknown>, signal: AbortSignal | undefined): Promise<T> {
    checkCall(fn, args);
    const body = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, argValue(fn, k, v)]));
    if (signal?.aborted) throw cancelledCall(fn, signal.reason);
    const deadline = AbortSignal.timeout(callMs);
    const { data, error } = await client.rpc(fn, body).abortSignal(signal ? AbortSignal.any([signal, deadline]) : deadline);
    if (!error) return data as T;
    // supabase-js answers an aborted or failed fetch as an error object: say which it was.
    if (signal?.aborted) throw cancelledCall(fn, signal.reason, error);
    if (deadline.aborted) {
      throw new DbError(fn, `no answer from the Supabase Data API (${url}) within ${callMs} ms. Check the project's status and network.`, DB_CALL_TIMEOUT, { cause: error });
    }
    if (!error.code && error.details) {
      const cause = /Caused by: ([^\n]*)/.exec(error.details)?.[1];
      throw new DbError(fn, `could not reach the Supabase Data API (${url}): ${cause ?? error.message}`, undefined, { cause: error });
    }
    throw new DbError(fn, error.message || "request failed", error.code, { cause: error });
  }

  return {
    kind: "supabase",
    rpc<T>(fn: string, args: Record<string, unknown> = {}, opts: RpcOptions = {}) {
      return call<T>(fn, args, opts.signal);
    },
    async ping() {
      await call("cronlayer_ping", {}, undefined);
    },
    async close() {},
  };
}

class NoSocket {
  constructor() {
    throw new Error("realtime is not used by cronlayer");
  }
}
