import { formatDuration } from "../../../lib/time/duration";
import type { Ctx, Handler, Reply, Req } from "../context";
import { checkDestination, parsePublish, type PublishRequest } from "../headers";
import { HttpError } from "../http";
import { ensureQueue } from "./queues";
import { groupOf } from "./url-groups";
import type { DedupEntry } from "../types";

const DEDUP_WINDOW_MS = 10 * 60_000;

/** The destination as published: the raw path remainder with the request's query put back. */
function destinationOf(req: Req, raw: string): string {
  return req.rawQuery ? `${raw}?${req.rawQuery}` : raw;
}

type Dedup = Record<string, DedupEntry>;
/**
 * The ids of each dedup table in expiry order (one fixed window, so the order they came in), so a
 * publish drops the expired ones from the front instead of scanning the whole table: a scan per
 * message made publishing n messages with ids cost n^2.
 */
const expiryQueues = new WeakMap<Dedup, { keys: [string, number][]; head: number }>();

function expire(ctx: Ctx, dedup: Dedup, now: number) {
  let q = expiryQueues.get(dedup);
  if (!q) {
    // A table loaded from a state file: sorted once.
    q = { keys: Object.entries(dedup).map(([k, e]): [string, number] => [k, e.expiresAt]).sort((a, b) => a[1] - b[1]), head: 0 };
    expiryQueues.set(dedup, q);
  }
  while (q.head < q.keys.length && q.keys[q.head]![1] <= now) {
    const [key, at] = q.keys[q.head++]!;
    if (dedup[key]?.expiresAt !== at) continue;
    delete dedup[key];
    ctx.store.touch("dedup", key);
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
  const queue = expire(ctx, dedup, now);
  const seen = p.dedupKey === undefined ? undefined : dedup[p.dedupKey];
  if (seen && seen.expiresAt > now) return { status: 202, body: { messageId: seen.messageId, url: seen.url, deduplicated: true } };

  const msg = ctx.engine.create(p.spec, { notBefore: p.notBefore ?? now + p.delayMs, callerIp });
  if (p.dedupKey !== undefined) {
    dedup[p.dedupKey] = { messageId: msg.messageId, url: msg.url, expiresAt: now + DEDUP_WINDOW_MS };
    ctx.store.touch("dedup", p.dedupKey);
    queue.keys.push([p.dedupKey, now + DEDUP_WINDOW_MS]);
  }
  return { status: 201, body: { messageId: msg.messageId, url: msg.url } };
}

/** A publish read and checked, not yet accepted: one request for a URL, one per endpoint of a URL group. */
interface Prepared {
  group: boolean;
  requests: PublishRequest[];
  queue?: string;
}

/**
 * The plan's maximum delay (`maxDelayMs`), measured on this server's clock when the publish arrives.
 * QStash's own wording was not found in its docs or SDK; this names the limit and the delay asked.
 */
function checkDelay(ctx: Ctx, p: PublishRequest): PublishRequest {
  const max = ctx.limits.maxDelayMs;
  if (max === undefined) return p;
  const delay = (p.notBefore ?? ctx.clock.now() + p.delayMs) - ctx.clock.now();
  // Named in whole seconds, as QStash counts them.
  if (delay > max) throw new HttpError(400, `invalid delay: ${formatDuration(Math.ceil(delay / 1000) * 1000)} is longer than the maximum delay of your plan, ${formatDuration(max)}`);
  return p;
}

/** Reads and checks a publish (throws HttpError 400/404); accepts nothing, so a batch can check every item first. */
function prepare(ctx: Ctx, destination: string, headers: Record<string, string[]>, body: Buffer, queue?: string): Prepared {
  const group = groupOf(ctx, destination);
  if (!group) return { group: false, requests: [checkDelay(ctx, parsePublish(headers, checkDestination(destination), body, queue))], queue };
  const requests = group.endpoints.map((e) => {
    const p = checkDelay(ctx, parsePublish(headers, e.url, body, queue));
    p.spec.topicName = group.name;
    if (e.name !== undefined) p.spec.endpointName = e.name;
    // Deduplicated per endpoint: the same id published to a group again is a duplicate on each.
    if (p.dedupKey !== undefined) p.dedupKey = `${p.dedupKey}@${e.url}`;
    return p;
  });
  return { group: true, requests, queue };
}

/** One message per request, each with its own id; a URL group is answered with an array, as on QStash. */
function commit(ctx: Ctx, p: Prepared, callerIp: string): Reply {
  if (p.queue !== undefined) ensureQueue(ctx, p.queue);
  const replies = p.requests.map((r) => accept(ctx, r, callerIp));
  if (!p.group) return replies[0]!;
  return { status: replies.some((r) => r.status === 201) ? 201 : 202, body: replies.map((r) => r.body) };
}

/** `POST /v2/publish/{destination}` (a URL, or a URL group's name) */
export const publish: Handler = async (ctx, req) => commit(ctx, prepare(ctx, destinationOf(req, req.params[0]!), req.headers, await req.body()), req.callerIp);

/** `POST /v2/enqueue/{queue}/{destination}`: FIFO, `parallelism` deliveries at a time (1 for a new queue). */
export const enqueue: Handler = async (ctx, req) => {
  const queue = decodeURIComponent(req.params[0]!);
  return commit(ctx, prepare(ctx, destinationOf(req, req.params[1]!), req.headers, await req.body(), queue), req.callerIp);
};

interface BatchItem {
  destination?: unknown;
  headers?: unknown;
  body?: unknown;
  queue?: unknown;
}

interface BatchRequest {
  destination: string;
  headers: Record<string, string[]>;
  body: Buffer;
  queue?: string;
}

function batchItem(item: BatchItem, i: number): BatchRequest {
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
  return { destination: item.destination, headers, body: Buffer.from(body), ...(queue !== undefined && { queue }) };
}

function inItem<T>(i: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof HttpError) throw new HttpError(err.status, `batch item ${i}: ${err.message}`);
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
  // Every item read and checked first (a bad header in item 3 accepts nothing), then accepted in order.
  const prepared = items.map((item: BatchItem, i) => {
    const b = batchItem(item, i);
    return inItem(i, () => prepare(ctx, b.destination, b.headers, b.body, b.queue));
  });
  return { status: 201, body: prepared.map((p) => commit(ctx, p, req.callerIp).body) };
};
