import type { Db } from "../db/types";
import type { Logger } from "../log";
import type { ActionResult } from "./actions";

/**
 * The console's action log: every action, with the operator who signed in, what it was done to,
 * why (the reason field, where the form has one) and how it ended. Written in one place, the
 * action route, after the action: a record that cannot be written is logged, and the action (done
 * by then) stands.
 */
export async function recordAction(deps: { db: Db; log: Logger }, operator: string, action: string, form: FormData, result: ActionResult, now = new Date()): Promise<void> {
  const f = (name: string) => {
    const v = form.get(name);
    return typeof v === "string" && v.trim() ? v.trim() : undefined;
  };
  const run = f("run");
  const target = f("id") ?? (f("from") || f("to") ? `${f("from") ?? ""}..${f("to") ?? ""}` : undefined);
  const entry = { operator, action, job: f("job"), run_id: run && /^[0-9a-f-]{36}$/.test(run) ? run : undefined, effect_key: f("key"), target, reason: f("reason"), ok: result.ok, outcome: result.notice };
  try {
    await deps.db.rpc("ops_action_record", { p_now: now, p_action: entry });
  } catch (err) {
    deps.log.error("ops.action.not_recorded", { ...entry, error: (err as Error).message });
  }
}
