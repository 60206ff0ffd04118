import type { Env } from "../env";
import { createPostgresDb } from "./postgres";
import { createSupabaseDb } from "./supabase";
import type { Db } from "./types";

export type { Db } from "./types";
export { DbError } from "./types";

export function createDb(database: Env["database"]): Db {
  return database.kind === "supabase" ? createSupabaseDb(database.url, database.serviceRoleKey) : createPostgresDb(database.url, { max: database.poolMax });
}
