import type { Ctx, Handler, Reply, Req } from "../context";
import { checkDestination, parsePublish, type PublishRequest } from "../headers";
import { HttpError } from "../http";
import type { DedupEntry } from "../types";

const DEDUP_WINDOW_MS = 10 * 60_000;

/** The destination as published: the raw path remainder with the request's query put back. */
function destinationOf(req: Req, raw: string): string {
  return checkDestination(req.rawQuery ? `${raw}?${req.rawQuery}` : raw);
}

type Dedup = Record<string, DedupEntry>;
/**
 * The ids of each dedup table in expiry order (one fixed window, so the order they came in), so a
 * publish drops the expired ones from the front instead of scanning the whole table: a scan per
 * message made publishing n messages with ids cost n^2.
 */
const expiryQueues = new WeakMap<Dedup, { keys: [string, number][]; head: number }>();

function expire(dedup: Dedup, now: number) {
  let q = expiryQueues.get(dedup);
  if (!q) {
    // A table loaded from a state file: sorted once.
    q = { keys: Object.entries(dedup).map(([k, e]): [string, number] => [k, e.expiresAt]).sort((a, b) => a[1] - b[1]), head: 0 };
    expiryQueues.set(dedup, q);
  }
  while (q.head < q.keys.length && q.keys[q.head]![1] <= now) {
    const [key, at] = q.keys[q.head++]!;
    if (dedup[key]?.expiresAt === at) delete dedup[key];
  }
  if (q.head > 1024 && q.head * 2 > q.keys.length) {
    q.keys = q.keys.slice(q.head);
    q.head = 0;
  }
  return q;
}

/** Accepts one message, or answers the message it duplicates (202, `deduplicated: true`). */
function accept(ctx: Ctx, p: PublishRequest, callerIp: string): { status: number; body: Record<string, unknown> } {
  const now = ctx.clock.now();
  const { dedup } = ctx.store.state;
  const queue = expire(dedup, now);
  const seen = p.dedupKey === undefined ? undefined : dedup[p.dedupKey];
  if (seen && seen.expiresAt > now) return { status: 202, body: { messageId: seen.messageId, url: seen.url, deduplicated: true } };

  const msg = ctx.engine.create(p.spec, { notBefore: p.notBefore ?? now + p.delayMs, callerIp });
  if (p.dedupKey !== undefined) {
    dedup[p.dedupKey] = { messageId: msg.messageId, url: msg.url, expiresAt: now + DEDUP_WINDOW_MS };
    queue.keys.push([p.dedupKey, now + DEDUP_WINDOW_MS]);
  }
  return { status: 201, body: { messageId: msg.messageId, url: msg.url } };
}

/** `POST /v2/publish/{destination}` */
export const publish: Handler = async (ctx, req) => {
  const url = destinationOf(req, req.params[0]!);
  return accept(ctx, parsePublish(req.headers, url, await req.body()), req.callerIp);
};

/** `POST /v2/enqueue/{queue}/{destination}`: FIFO, one delivery at a time per queue. */
export const enqueue: Handler = async (ctx, req) => {
  const queue = decodeURIComponent(req.params[0]!);
  const url = destinationOf(req, req.params[1]!);
  return accept(ctx, parsePublish(req.headers, url, await req.body(), queue), req.callerIp);
};

interface BatchItem {
  destination?: unknown;
  headers?: unknown;
  body?: unknown;
  queue?: unknown;
}

function batchItem(item: BatchItem, i: number): PublishRequest {
  const where = `batch item ${i}`;
  if (typeof item !== "object" || item === null) throw new HttpError(400, `${where}: expected an object {destination, headers?, body?, queue?}`);
  if (typeof item.destination !== "string" || item.destination === "") throw new HttpError(400, `${where}: destination is required`);
  const headers: Record<string, string[]> = {};
  if (item.headers !== undefined) {
    if (typeof item.headers !== "object" || item.headers === null) throw new HttpError(400, `${where}: headers must be an object`);
    for (const [k, v] of Object.entries(item.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.map(String) : [String(v)];
  }
  const body = item.body === undefined || item.body === null ? "" : typeof item.body === "string" ? item.body : JSON.stringify(item.body);
  const queue = item.queue === undefined || item.queue === null || item.queue === "" ? undefined : String(item.queue);
  try {
    return parsePublish(headers, checkDestination(item.destination), Buffer.from(body), queue);
  } catch (err) {
    if (err instanceof HttpError) throw new HttpError(err.status, `${where}: ${err.message}`);
    throw err;
  }
}

/** `POST /v2/batch`: all items are checked before any is accepted; answers align with the input. */
export const batch: Handler = async (ctx, req): Promise<Reply> => {
  let items: unknown;
  try {
    items = JSON.parse((await req.body()).toString("utf8"));
  } catch {
    throw new HttpError(400, "batch body must be a JSON array of {destination, headers?, body?, queue?}");
  }
  if (!Array.isArray(items) || items.length === 0) throw new HttpError(400, "batch body must be a non-empty JSON array of {destination, headers?, body?, queue?}");
  const parsed = items.map((item: BatchItem, i) => batchItem(item, i));
  return { status: 201, body: parsed.map((p) => accept(ctx, p, req.callerIp).body) };
};
