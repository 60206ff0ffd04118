import type postgres from "postgres";
import { sqlLiteral } from "../../lib/db/params";
import { signatureQuery, toSignatures, typesFor, type Signature } from "../../lib/db/signatures";
import { cancelledCall, DB_CALL_TIMEOUT, DEFAULT_DB_TIMEOUTS } from "../../lib/db/timeouts";
import { DbError, type Db, type RpcOptions } from "../../lib/db/types";
import type { Proc, World } from "./world";

/** What the simulation does to one database call. */
export type DbFault = "none" | "refused" | "frozen" | { slowMs: number };

export interface DbCallRecord {
  fn: string;
  args: Record<string, unknown>;
  proc: string;
  /** When it ran on the server, if it did; when its caller gave up, if it did. */
  executedAt?: number;
  gaveUpAt?: number;
  result?: unknown;
  fault: DbFault;
}

/**
 * The real SQL functions on a real PostgreSQL, one call at a time, on the world's clock (the
 * session's `cronlayer.clock`). A call is two steps: it runs on the server, then its answer reaches
 * the caller; others act in between. A refused call fails at once; a frozen one is given up by its
 * caller after the database bound (a timer) and may still run later, or never; a slow one answers
 * after a delay.
 */
export function simDb(opts: { sql: postgres.Sql; world: World; proc: Proc; fault: (fn: string) => DbFault; calls: DbCallRecord[] }): Db {
  const { sql, world, proc } = opts;
  const signatures = new Map<string, Signature[] | undefined>();
  const execute = async (fn: string, args: Record<string, unknown>) => {
    if (!signatures.has(fn)) signatures.set(fn, toSignatures(await signatureQuery(sql, fn)));
    const names = Object.keys(args);
    const types = typesFor(signatures.get(fn), names);
    const list = names.map((n) => `"${n}" => ${sqlLiteral(fn, n, args[n], types?.get(n))}`).join(", ");
    const at = new Date(world.t).toISOString();
    // One simple-protocol round trip; the two statements share one implicit transaction.
    const res = (await sql.unsafe(`select set_config('cronlayer.clock', '${at}', true); select public."${fn}"(${list}) as result`)) as unknown as { result: unknown }[][];
    return res[1]![0]!.result;
  };

  return {
    kind: "postgres",
    async rpc<T>(fn: string, args: Record<string, unknown> = {}, o: RpcOptions = {}): Promise<T> {
      if (o.signal?.aborted) throw cancelledCall(fn, o.signal.reason);
      const rec: DbCallRecord = { fn, args, proc: proc.name, fault: opts.fault(fn) };
      opts.calls.push(rec);
      if (rec.fault === "refused") {
        await world.point(proc, `db ${fn} refused`);
        throw new DbError(fn, "connect ECONNREFUSED (simulated)", "ECONNREFUSED");
      }
      let outcome: { ok: true; value: unknown } | { ok: false; error: unknown } | undefined;
      let answer!: () => void;
      const answered = new Promise<void>((r) => (answer = r));
      const run = async () => {
        if (rec.gaveUpAt === undefined && o.signal?.aborted) {
          outcome = { ok: false, error: cancelledCall(fn, o.signal.reason) };
          return answer();
        }
        rec.executedAt = world.t;
        try {
          rec.result = await execute(fn, args);
          outcome = { ok: true, value: rec.result };
        } catch (error) {
          outcome = { ok: false, error };
        }
        if (rec.fault === "frozen") return;
        const slow = rec.fault;
        // A slow network: the answer arrives after a while, whatever else happens meanwhile.
        if (typeof slow === "object") world.timersFor(proc).setTimeout(() => void world.point(proc, `db ${fn} answer (slow)`, answer), slow.slowMs);
        // Not awaited: the answer is a later step of its own.
        else void world.point(proc, `db ${fn} answer`, answer);
      };
      void world.point(proc, `db ${fn}`, run);
      if (rec.fault === "frozen") {
        const timers = world.timersFor(proc);
        timers.setTimeout(() => {
          rec.gaveUpAt = world.t;
          outcome = { ok: false, error: new DbError(fn, `no answer within ${DEFAULT_DB_TIMEOUTS.callMs} ms (simulated freeze)`, DB_CALL_TIMEOUT) };
          answer();
        }, DEFAULT_DB_TIMEOUTS.callMs);
      }
      await answered;
      if (!outcome!.ok) throw outcome!.error;
      if (o.signal?.aborted) throw cancelledCall(fn, o.signal.reason);
      return outcome!.value as T;
    },
    ping: async () => {},
    close: async () => {},
  };
}
