import postgres from "postgres";
import { checkCall, DbError, type Db } from "./types";

/**
 * postgres.js over DATABASE_URL: a Supabase pooler, any PostgreSQL, or the embedded PGlite socket.
 * `prepare: false` keeps it usable behind transaction-mode poolers (Supavisor, PgBouncer).
 */
export function createPostgresDb(url: string, opts: { max?: number } = {}): Db {
  const sql = postgres(url, {
    max: opts.max ?? 5,
    prepare: false,
    idle_timeout: 20,
    connect_timeout: 10,
    onnotice: () => {},
  });
  return {
    kind: "postgres",
    async rpc<T>(fn: string, args: Record<string, unknown> = {}) {
      checkCall(fn, args);
      const names = Object.keys(args);
      const params = names.map((n) => toParam(args[n]));
      const call = `select ${fn}(${names.map((n, i) => `${n} => $${i + 1}`).join(", ")}) as result`;
      try {
        const rows = await sql.unsafe<{ result: T }[]>(call, params as never[]);
        return rows[0]!.result;
      } catch (err) {
        const e = err as { message?: string; code?: string };
        throw new DbError(fn, e.message ?? String(err), e.code, { cause: err });
      }
    },
    async ping() {
      await this.rpc("cronlayer_ping");
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}

/** postgres.js learns each parameter's type from the server and serializes jsonb itself. */
function toParam(v: unknown): unknown {
  if (v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  return v;
}
