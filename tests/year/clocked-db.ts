import postgres from "postgres";
import { sqlLiteral } from "../../lib/db/params";
import { signatureQuery, toSignatures, typesFor, type Signature } from "../../lib/db/signatures";
import { DbError, type Db } from "../../lib/db/types";

/**
 * The real SQL functions on the test database, each call read on the test's clock: the ledger's
 * `cronlayer_now()` honours the transaction's `cronlayer.clock` (as tests/sim/db.ts sets it), so
 * leases, lag and slot decisions follow the manual clock, not the machine's. `calls` counts the
 * round trips, for the cost per delivery.
 */
export function clockedDb(url: string, now: () => number): Db & { calls: number } {
  const sql = postgres(url, { max: 4, prepare: false, onnotice: () => {} });
  const signatures = new Map<string, Signature[] | undefined>();
  const db = {
    kind: "postgres" as const,
    calls: 0,
    async rpc<T>(fn: string, args: Record<string, unknown> = {}): Promise<T> {
      db.calls++;
      try {
        if (!signatures.has(fn)) signatures.set(fn, toSignatures(await signatureQuery(sql, fn)));
        const names = Object.keys(args);
        const types = typesFor(signatures.get(fn), names);
        const list = names.map((n) => `"${n}" => ${sqlLiteral(fn, n, args[n], types?.get(n))}`).join(", ");
        const at = new Date(now()).toISOString();
        // One simple-protocol round trip: both statements share one implicit transaction.
        const res = (await sql.unsafe(`select set_config('cronlayer.clock', '${at}', true); select public."${fn}"(${list}) as result`)) as unknown as { result: T }[][];
        return res[1]![0]!.result;
      } catch (err) {
        if (err instanceof DbError) throw err;
        throw new DbError(fn, (err as Error).message, (err as { code?: string }).code, { cause: err });
      }
    },
    async ping() {
      await db.rpc("cronlayer_ping");
    },
    close: () => sql.end({ timeout: 5 }),
  };
  return db;
}
