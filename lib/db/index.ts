import type { Env } from "../env";
import { createPostgresDb } from "./postgres";
import { createSupabaseDb } from "./supabase";
import type { DbTimeouts } from "./timeouts";
import type { Db } from "./types";

export type { Db, RpcOptions } from "./types";
export { DbError } from "./types";
export { DB_CALL_CANCELLED, DB_CALL_TIMEOUT, DEFAULT_DB_TIMEOUTS, type DbTimeouts } from "./timeouts";

/** The adapter DATABASE_URL or SUPABASE_URL asks for, with the default bounds unless given others. */
export function createDb(database: Env["database"], timeouts: Partial<DbTimeouts> = {}): Db {
  return database.kind === "supabase"
    ? createSupabaseDb(database.url, database.serviceRoleKey, timeouts)
    : createPostgresDb(database.url, { ...timeouts, max: database.poolMax });
}
