import { createClient } from "@supabase/supabase-js";
import { checkCall, DbError, type Db } from "./types";

/**
 * supabase-js over HTTP (PostgREST `rpc`): the production default on Vercel, since serverless
 * functions then hold no database connections to exhaust.
 */
export function createSupabaseDb(url: string, serviceRoleKey: string, opts: { fetch?: typeof fetch } = {}): Db {
  const client = createClient(url, serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: opts.fetch ? { fetch: opts.fetch } : undefined,
    // Realtime is never used; plain Node 20 has no global WebSocket, so give it an inert one.
    realtime: { transport: (globalThis.WebSocket ?? NoSocket) as never },
  });
  return {
    kind: "supabase",
    async rpc<T>(fn: string, args: Record<string, unknown> = {}) {
      checkCall(fn, args);
      const { data, error } = await client.rpc(fn, normalize(args));
      if (error) throw new DbError(fn, error.message || "request failed", error.code, { cause: error });
      return data as T;
    },
    async ping() {
      const { error } = await client.rpc("cronlayer_ping");
      if (error) throw new DbError("cronlayer_ping", error.message || "request failed", error.code);
    },
    async close() {},
  };
}

function normalize(args: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : (v ?? null)]));
}

class NoSocket {
  constructor() {
    throw new Error("realtime is not used by cronlayer");
  }
}
