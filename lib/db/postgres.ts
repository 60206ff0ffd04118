import postgres from "postgres";
import { describeDriverError, guardedCall } from "./postgres-call";
import { sqlLiteral } from "./params";
import { signatureQuery, toSignatures, typesFor, type Signature } from "./signatures";
import { dbTimeouts, type DbTimeouts } from "./timeouts";
import { checkCall, DbError, type Db, type RpcOptions } from "./types";

export interface PostgresDbOptions extends Partial<DbTimeouts> {
  /** Connections in the pool. */
  max?: number;
}

/**
 * postgres.js over DATABASE_URL: a Supabase pooler, any PostgreSQL, or the embedded PGlite socket.
 * `prepare: false` keeps it usable behind transaction-mode poolers (Supavisor, PgBouncer).
 */
export function createPostgresDb(url: string, opts: PostgresDbOptions = {}): Db {
  const t = dbTimeouts(opts);
  const open = () =>
    postgres(url, {
      max: opts.max ?? 5,
      prepare: false,
      connect_timeout: t.connectMs / 1000,
      idle_timeout: t.idleMs / 1000,
      // postgres.js waits up to 20 s between reconnects after repeated failures: a database that
      // is back would sit unused that long.
      backoff: (retries: number) => Math.min((0.5 + Math.random() / 2) * Math.min(3 ** retries / 100, 20), t.maxBackoffMs / 1000),
      onnotice: () => {},
      // No pipelining: postgres.js (3.4.9) mishandles a query cancelled while it waits behind
      // another on the same connection: it skips that query when its turn comes, so each later
      // answer on the connection goes to the call after its own. One query per connection at a
      // time keeps every answer with its caller (tests/integration/db-cancel-crosstalk.test.ts).
      ...{ max_pipeline: 0 },
    });
  let sql = open();
  const retiring = new Set<Promise<void>>();
  /**
   * A call that got no answer may sit on a dead connection that would absorb the calls queued
   * behind it: later calls go to a fresh pool, and the old one ends once its calls settle, or
   * is destroyed after a call's bound.
   */
  const retire = (stale: postgres.Sql) => {
    if (stale !== sql) return;
    sql = open();
    const ended: Promise<void> = stale
      .end({ timeout: t.callMs / 1000 })
      .catch(() => {})
      .finally(() => retiring.delete(ended));
    retiring.add(ended);
  };
  const signatures = new Map<string, Signature[]>();
  const setLocal = t.statementMs === null ? "" : `set local statement_timeout = ${Math.max(1, Math.round(t.statementMs))}; `;

  return {
    kind: "postgres",
    async rpc<T>(fn: string, args: Record<string, unknown> = {}, opts: RpcOptions = {}) {
      checkCall(fn, args);
      const names = Object.keys(args);
      return guardedCall(fn, t, opts.signal, () => sql, retire, async (exec) => {
        let cast = false;
        try {
          let sigs = signatures.get(fn);
          if (names.length && !sigs) {
            sigs = toSignatures(await exec((s) => signatureQuery(s, fn)));
            if (sigs) signatures.set(fn, sigs);
          }
          const types = names.length ? typesFor(sigs, names) : undefined;
          cast = types !== undefined;
          const list = names.map((n) => `"${n}" => ${sqlLiteral(fn, n, args[n], types?.get(n))}`).join(", ");
          const res = await exec((s) => s.unsafe(`${setLocal}select public."${fn}"(${list}) as result`));
          // With `set local` first, postgres.js answers one result per statement.
          const rows = (setLocal ? (res as unknown as unknown[][])[1] : res) as { result: T }[];
          return rows[0]!.result;
        } catch (err) {
          if (err instanceof DbError) throw err;
          // A migration may have changed the function since its signature was read.
          if (cast && (err as { code?: string }).code === "42883") signatures.delete(fn);
          throw describeDriverError(fn, err, t);
        }
      });
    },
    async ping() {
      await this.rpc("cronlayer_ping");
    },
    async close() {
      await Promise.all([sql.end({ timeout: 5 }), ...retiring]);
    },
  };
}
