import { z } from "zod";
import { escapeHtml, htmlFrame } from "@/lib/emails/layout";
import { NonRetryableError } from "@/lib/errors";
import { defineJob, type JobContext } from "@/lib/jobs/define";
import { runEffects, type Effect, type EffectCounts } from "@/lib/jobs/effects";
import { marketplaceEnv } from "../env";

interface Task {
  id: string;
  kind: string;
  payload: unknown;
  run_at: string;
  max_attempts: number;
}

/** A task that can never succeed as written (unknown kind, bad payload): abandoned at once, not retried. */
class PermanentTaskError extends NonRetryableError {
  override name = "PermanentTaskError";
}

/** The kinds of task an admin can queue. The effect key task:<id> is the provider's idempotency key. */
const KINDS: Record<string, { payload: z.ZodType; run: (ctx: JobContext<unknown>, effect: Effect, payload: never) => Promise<void> }> = {
  "send-email": {
    payload: z.object({ to: z.union([z.email(), z.array(z.email()).min(1)]), subject: z.string().min(1), text: z.string().min(1) }),
    run: async (ctx, effect, p: { to: string | string[]; subject: string; text: string }) => {
      const html = htmlFrame(p.subject, p.text.split(/\n{2,}/).map((para) => escapeHtml(para).replace(/\n/g, "<br>")));
      await ctx.providers.email().send({ to: p.to, subject: p.subject, text: p.text, html, idempotencyKey: effect.key, tags: { kind: "admin-task" } }, ctx.signal);
    },
  },
  notify: {
    payload: z.object({ subscriberId: z.string().min(1), workflowId: z.string().min(1), data: z.record(z.string(), z.unknown()).default({}) }),
    run: async (ctx, effect, p: { subscriberId: string; workflowId: string; data: Record<string, unknown> }) => {
      await ctx.providers.notify().trigger({ workflowId: p.workflowId, subscriber: { id: p.subscriberId }, payload: p.data, transactionId: effect.key }, ctx.signal);
    },
  },
};

const TIMEOUT_MS = 240_000;
/** A failed task is due again after about this long, twice as long after each further failure. */
const BACKOFF_MS = 3_600_000;

/** Due admin tasks (each once, retried with backoff up to its max_attempts), then retention of the marketplace's audit log. */
export default defineJob({
  name: "process-tasks",
  description: "Run due admin tasks; delete audit-log rows past their retention window",
  timeoutMs: TIMEOUT_MS,
  async handler(ctx) {
    const { env, now } = ctx;
    const counts = await runTasks(ctx);
    const auditDeleted = await prune(ctx, "audit_log_prune", new Date(now.getTime() - marketplaceEnv.of(env).auditLogRetentionDays * 86_400_000));
    return {
      done: counts.succeeded,
      // Failed in this run: retried by a later run after the backoff, or abandoned (the task failed).
      failed: counts.failed + counts.unknown + counts.abandoned,
      abandoned: counts.abandoned,
      skipped: counts.skipped,
      auditDeleted,
    };
  },
});

function runTasks(ctx: JobContext<unknown>): Promise<EffectCounts> {
  const { db, now } = ctx;
  return runEffects<Task, void>(ctx, {
    due: ({ after, limit }) =>
      db.rpc<Task[]>("admin_tasks_due", { p_now: now, p_after_run_at: after?.run_at, p_after_id: after?.id, p_limit: limit }),
    key: (task) => `task:${task.id}`,
    onUnknown: "retry-with-key", // Resend and Novu keep the first request per key
    subject: (task) => task.id,
    work: async (task, effect) => {
      const kind = KINDS[task.kind];
      if (!kind) throw new PermanentTaskError(`unknown task kind "${task.kind}" (known: ${Object.keys(KINDS).join(", ")})`);
      const parsed = kind.payload.safeParse(task.payload);
      if (!parsed.success) throw new PermanentTaskError(`invalid payload for ${task.kind}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
      await kind.run(ctx, effect, parsed.data as never);
    },
    finish: "admin_tasks_settle",
    pageSize: 50,
    maxAttempts: (task) => task.max_attempts,
    backoffMs: BACKOFF_MS,
  });
}

/** Deletes in batches until nothing older than `before` is left; returns how many rows went. */
async function prune(ctx: JobContext<unknown>, fn: "audit_log_prune", before: Date): Promise<number> {
  let deleted = 0;
  for (;;) {
    ctx.signal.throwIfAborted();
    const page = await ctx.db.rpc<{ deleted: number; more: boolean }>(fn, { p_before: before, p_limit: 5000 });
    deleted += page.deleted;
    if (!page.more) return deleted;
  }
}
