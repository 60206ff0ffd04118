import type { Handler } from "../context";
import { HttpError, page } from "../http";
import type { EventRecord, StoredMessage } from "../types";
import { eventView, messageView } from "../views";

/** `GET /v2/messages/{id}`: only while the message is pending (waiting, retrying or in flight). */
export const getMessage: Handler = (ctx, req) => {
  const id = decodeURIComponent(req.params[0]!);
  const msg = ctx.store.state.messages[id];
  if (!msg) throw new HttpError(404, `message ${id} not found`);
  return { status: 200, body: messageView(msg) };
};

/** `DELETE /v2/messages/{id}` -> `{cancelled: 1}`. */
export const cancelMessage: Handler = (ctx, req) => {
  const id = decodeURIComponent(req.params[0]!);
  if (!ctx.engine.cancel(id)) throw new HttpError(404, `message ${id} not found`);
  return { status: 200, body: { cancelled: 1 } };
};

function messageMatches(m: StoredMessage, q: URLSearchParams): boolean {
  const ids = q.getAll("messageIds");
  if (ids.length > 0) return ids.includes(m.messageId);
  const eq = (name: string, value: string | undefined) => !q.has(name) || q.getAll(name).includes(String(value));
  if (!eq("url", m.url) || !eq("scheduleId", m.scheduleId) || !eq("queueName", m.queueName) || !eq("flowControlKey", m.flow?.key)) return false;
  if (q.has("label") && !q.getAll("label").some((l) => m.labels?.includes(l))) return false;
  return true;
}

/** `DELETE /v2/messages?messageIds=...` (or filters, or everything) -> `{cancelled}`. */
export const cancelMessages: Handler = (ctx, req) => {
  const targets = Object.values(ctx.store.state.messages).filter((m) => messageMatches(m, req.query));
  let cancelled = 0;
  for (const m of targets) if (ctx.engine.cancel(m.messageId)) cancelled++;
  return { status: 200, body: { cancelled } };
};

export const keys: Handler = (ctx) => ({ status: 200, body: { current: ctx.keys.current, next: ctx.keys.next } });

function eventMatches(e: EventRecord, q: URLSearchParams): boolean {
  const ids = [...q.getAll("messageIds"), ...q.getAll("messageId")];
  if (ids.length > 0 && !ids.includes(e.messageId)) return false;
  const eq = (name: string, value: string | undefined) => !q.has(name) || q.getAll(name).includes(String(value));
  if (!eq("state", e.state) || !eq("url", e.url) || !eq("scheduleId", e.scheduleId) || !eq("queueName", e.queueName)) return false;
  // No URL groups here: a URL-group filter matches nothing.
  if (q.has("topicName")) return false;
  if (q.has("label") && !q.getAll("label").some((l) => e.labels?.includes(l))) return false;
  if (q.has("fromDate") && e.time < Number(q.get("fromDate"))) return false;
  if (q.has("toDate") && e.time > Number(q.get("toDate"))) return false;
  return true;
}

/** `GET /v2/events?cursor=&count=` (and the SDK's filters) -> `{events, cursor?}`, newest first. */
export const events: Handler = (ctx, req) => {
  const { items, cursor } = page(
    ctx.store.state.events.filter((e) => eventMatches(e, req.query)),
    req.query,
    "desc",
  );
  return { status: 200, body: { events: items.map(eventView), ...(cursor && { cursor }) } };
};
