import type { Ctx, Handler } from "../context";
import { specOf } from "../outcome";
import { checkFilterKeys, DLQ_FILTERS, matches, type Subject } from "../filters";
import { HttpError, page } from "../http";
import type { DlqEntry } from "../types";
import { dlqView } from "../views";

const dlqSubject = (d: DlqEntry): Subject => ({
  url: d.message.url,
  messageId: d.message.messageId,
  topicName: d.message.topicName,
  scheduleId: d.message.scheduleId,
  queueName: d.message.queueName,
  flowControlKey: d.message.flow?.key,
  callerIp: d.message.callerIp,
  labels: d.message.labels,
  responseStatus: d.response?.status,
  time: d.failedAt,
});

function dlqMatches(d: DlqEntry, q: URLSearchParams): boolean {
  const ids = q.getAll("dlqIds");
  return (ids.length === 0 || ids.includes(d.dlqId)) && matches(dlqSubject(d), q);
}

function find(ctx: Ctx, id: string): DlqEntry {
  const d = ctx.store.state.dlq.find((e) => e.dlqId === id);
  if (!d) throw new HttpError(404, `dlq message ${id} not found`);
  return d;
}

function remove(ctx: Ctx, entries: DlqEntry[]) {
  const gone = new Set(entries);
  ctx.store.state.dlq = ctx.store.state.dlq.filter((e) => !gone.has(e));
  for (const e of entries) ctx.store.touch("dlq", e.dlqId);
}

/** Re-publishes a dead message as a new one (new id, retries from zero) and drops it from the DLQ. */
function retry(ctx: Ctx, d: DlqEntry): string {
  const m = d.message;
  remove(ctx, [d]);
  return ctx.engine.create(specOf(m), { notBefore: ctx.clock.now(), callerIp: m.callerIp, kind: m.kind, ...(m.scheduleId !== undefined && { scheduleId: m.scheduleId }) }).messageId;
}

/** Matching entries, newest first; bulk actions without ids work a page (`count`) at a time. */
function selection(ctx: Ctx, q: URLSearchParams, endpoint: string) {
  checkFilterKeys(q, DLQ_FILTERS, endpoint);
  return page(
    ctx.store.state.dlq.filter((d) => dlqMatches(d, q)),
    q,
    "desc",
  );
}

export const listDlq: Handler = (ctx, req) => {
  const { items, cursor } = selection(ctx, req.query, "GET /v2/dlq");
  return { status: 200, body: { messages: items.map(dlqView), ...(cursor && { cursor }) } };
};

export const getDlq: Handler = (ctx, req) => ({ status: 200, body: dlqView(find(ctx, decodeURIComponent(req.params[0]!))) });

export const deleteDlq: Handler = (ctx, req) => {
  remove(ctx, [find(ctx, decodeURIComponent(req.params[0]!))]);
  return { status: 200 };
};

/** `DELETE /v2/dlq?dlqIds=a&dlqIds=b` (or filters) -> `{deleted}`. */
export const deleteDlqMany: Handler = (ctx, req) => {
  const { items, cursor } = selection(ctx, req.query, "DELETE /v2/dlq");
  remove(ctx, items);
  return { status: 200, body: { deleted: items.length, ...(cursor && { cursor }) } };
};

/** `POST /v2/dlq/retry?dlqIds=...` (or filters) -> `{responses: [{messageId}]}`. */
export const retryDlqMany: Handler = (ctx, req) => {
  const { items, cursor } = selection(ctx, req.query, "POST /v2/dlq/retry");
  return { status: 200, body: { responses: items.map((d) => ({ messageId: retry(ctx, d) })), ...(cursor && { cursor }) } };
};

/** `POST /v2/dlq/retry/{dlqId}` -> `{messageId}`. */
export const retryDlqOne: Handler = (ctx, req) => ({ status: 200, body: { messageId: retry(ctx, find(ctx, decodeURIComponent(req.params[0]!))) } });
