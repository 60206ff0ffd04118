import type { Ctx, Handler } from "../context";
import { specOf } from "../outcome";
import { HttpError, page } from "../http";
import type { DlqEntry } from "../types";
import { dlqView } from "../views";

/** The SDK's DLQ filters (ids, or url / label / ids / status / time range). */
function matches(d: DlqEntry, q: URLSearchParams): boolean {
  const ids = q.getAll("dlqIds");
  if (ids.length > 0 && !ids.includes(d.dlqId)) return false;
  const m = d.message;
  const eq = (name: string, value: string | number | undefined) => !q.has(name) || q.getAll(name).includes(String(value));
  if (!eq("url", m.url) || !eq("messageId", m.messageId) || !eq("scheduleId", m.scheduleId) || !eq("queueName", m.queueName)) return false;
  if (!eq("responseStatus", d.response?.status) || !eq("callerIp", m.callerIp) || !eq("method", m.method)) return false;
  if (q.has("label") && !q.getAll("label").some((l) => m.labels?.includes(l))) return false;
  if (q.has("fromDate") && d.failedAt < Number(q.get("fromDate"))) return false;
  if (q.has("toDate") && d.failedAt > Number(q.get("toDate"))) return false;
  return true;
}

function find(ctx: Ctx, id: string): DlqEntry {
  const d = ctx.store.state.dlq.find((e) => e.dlqId === id);
  if (!d) throw new HttpError(404, `dlq message ${id} not found`);
  return d;
}

function remove(ctx: Ctx, entries: DlqEntry[]) {
  const gone = new Set(entries);
  ctx.store.state.dlq = ctx.store.state.dlq.filter((e) => !gone.has(e));
  ctx.store.changed();
}

/** Re-publishes a dead message as a new one (new id, retries from zero) and drops it from the DLQ. */
function retry(ctx: Ctx, d: DlqEntry): string {
  const m = d.message;
  remove(ctx, [d]);
  return ctx.engine.create(specOf(m), { notBefore: ctx.clock.now(), callerIp: m.callerIp, kind: m.kind, ...(m.scheduleId !== undefined && { scheduleId: m.scheduleId }) }).messageId;
}

/** Matching entries, newest first; bulk actions without ids work a page (`count`) at a time. */
function selection(ctx: Ctx, q: URLSearchParams) {
  return page(
    ctx.store.state.dlq.filter((d) => matches(d, q)),
    q,
    "desc",
  );
}

export const listDlq: Handler = (ctx, req) => {
  const { items, cursor } = selection(ctx, req.query);
  return { status: 200, body: { messages: items.map(dlqView), ...(cursor && { cursor }) } };
};

export const getDlq: Handler = (ctx, req) => ({ status: 200, body: dlqView(find(ctx, decodeURIComponent(req.params[0]!))) });

export const deleteDlq: Handler = (ctx, req) => {
  remove(ctx, [find(ctx, decodeURIComponent(req.params[0]!))]);
  return { status: 200 };
};

/** `DELETE /v2/dlq?dlqIds=a&dlqIds=b` (or filters) -> `{deleted}`. */
export const deleteDlqMany: Handler = (ctx, req) => {
  const { items, cursor } = selection(ctx, req.query);
  remove(ctx, items);
  return { status: 200, body: { deleted: items.length, ...(cursor && { cursor }) } };
};

/** `POST /v2/dlq/retry?dlqIds=...` (or filters) -> `{responses: [{messageId}]}`. */
export const retryDlqMany: Handler = (ctx, req) => {
  const { items, cursor } = selection(ctx, req.query);
  return { status: 200, body: { responses: items.map((d) => ({ messageId: retry(ctx, d) })), ...(cursor && { cursor }) } };
};

/** `POST /v2/dlq/retry/{dlqId}` -> `{messageId}`. */
export const retryDlqOne: Handler = (ctx, req) => ({ status: 200, body: { messageId: retry(ctx, find(ctx, decodeURIComponent(req.params[0]!))) } });
