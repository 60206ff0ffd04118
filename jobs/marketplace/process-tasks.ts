import { z } from "zod";
import { escapeHtml, htmlFrame } from "@/emails/layout";
import { defineJob, type JobContext } from "@/lib/jobs/define";
import { drainClaims, errorText, type ClaimPage, type ItemResult } from "@/lib/jobs/batch";

interface Task {
  id: string;
  kind: string;
  payload: unknown;
  attempt: number;
  max_attempts: number;
}

/** A task that can never succeed as written (unknown kind, bad payload): failed at once, not retried. */
class PermanentTaskError extends Error {
  override name = "PermanentTaskError";
}

/** The kinds of task an admin can queue. Each side effect carries the key task:<id>. */
const KINDS: Record<string, { payload: z.ZodType; run: (ctx: JobContext<unknown>, task: Task, payload: never) => Promise<void> }> = {
  "send-email": {
    payload: z.object({ to: z.union([z.email(), z.array(z.email()).min(1)]), subject: z.string().min(1), text: z.string().min(1) }),
    run: async (ctx, task, p: { to: string | string[]; subject: string; text: string }) => {
      const html = htmlFrame(p.subject, p.text.split(/\n{2,}/).map((para) => escapeHtml(para).replace(/\n/g, "<br>")));
      await ctx.providers.email().send({ to: p.to, subject: p.subject, text: p.text, html, idempotencyKey: `task:${task.id}`, tags: { kind: "admin-task" } }, ctx.signal);
    },
  },
  notify: {
    payload: z.object({ subscriberId: z.string().min(1), workflowId: z.string().min(1), data: z.record(z.string(), z.unknown()).default({}) }),
    run: async (ctx, task, p: { subscriberId: string; workflowId: string; data: Record<string, unknown> }) => {
      await ctx.providers.notify().trigger({ workflowId: p.workflowId, subscriber: { id: p.subscriberId }, payload: p.data, transactionId: `task:${task.id}` }, ctx.signal);
    },
  },
};

const TIMEOUT_MS = 240_000;
/** A failed task is due again after this times its attempt number. */
const BACKOFF_MS = 3_600_000;

/** Due admin tasks (claim, run, done or retried with attempts), then audit-log retention. */
export default defineJob({
  name: "process-tasks",
  description: "Run due admin tasks; delete audit-log rows older than the retention window",
  timeoutMs: TIMEOUT_MS,
  async handler(ctx) {
    const { db, env, now, run, signal, log } = ctx;
    const counts = await drainClaims<Task, void>({
      claim: () => db.rpc<ClaimPage<Task>>("admin_tasks_claim", { p_run_id: run.id, p_now: now, p_lease_ms: TIMEOUT_MS, p_limit: 50 }),
      work: async (task) => {
        const kind = KINDS[task.kind];
        if (!kind) throw new PermanentTaskError(`unknown task kind "${task.kind}" (known: ${Object.keys(KINDS).join(", ")})`);
        const parsed = kind.payload.safeParse(task.payload);
        if (!parsed.success) throw new PermanentTaskError(`invalid payload for ${task.kind}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
        await kind.run(ctx, task, parsed.data as never);
      },
      finish: (results) => db.rpc("admin_tasks_finish", { p_run_id: run.id, p_now: now, p_backoff_ms: BACKOFF_MS, p_results: results.map(row) }).then(() => {}),
      concurrency: 4,
      signal,
      onError: (task, error) => log.warn("task.failed", { taskId: task.id, kind: task.kind, attempt: task.attempt, error: errorText(error) }),
    });

    const before = new Date(now.getTime() - env.marketplace.auditLogRetentionDays * 86_400_000);
    let auditDeleted = 0;
    for (;;) {
      signal.throwIfAborted();
      const page = await db.rpc<{ deleted: number; more: boolean }>("audit_log_prune", { p_before: before, p_limit: 5000 });
      auditDeleted += page.deleted;
      if (!page.more) break;
    }
    return { done: counts.ok, failed: counts.failed, auditDeleted };
  },
});

function row(r: ItemResult<Task, void>) {
  if (r.ok) return { id: r.item.id, ok: true };
  if ("released" in r) return { id: r.item.id, released: true };
  return { id: r.item.id, ok: false, error: errorText(r.error), permanent: r.error instanceof PermanentTaskError };
}
