import type { Ctx, Handler } from "../context";
import { HttpError } from "../http";
import type { StoredQueue } from "../types";

const NAME = /^[A-Za-z0-9_.-]{1,200}$/;

function checkName(name: string): string {
  if (!NAME.test(name)) throw new HttpError(400, `invalid queue name "${name}": use letters, digits, -, _ and .`);
  return name;
}

/** The queue, created with QStash's defaults (parallelism 1, running) when an enqueue names a new one. */
export function ensureQueue(ctx: Ctx, name: string): StoredQueue {
  const existing = ctx.store.state.queues[checkName(name)];
  if (existing) return existing;
  const now = ctx.clock.now();
  const q: StoredQueue = { name, parallelism: 1, paused: false, createdAt: now, updatedAt: now };
  ctx.store.state.queues[name] = q;
  ctx.store.changed();
  return q;
}

function existing(ctx: Ctx, raw: string): StoredQueue {
  const name = decodeURIComponent(raw);
  const q = ctx.store.state.queues[name];
  if (!q) throw new HttpError(404, `queue ${name} not found`);
  return q;
}

/** The SDK's `QueueResponse`; `lag` counts the queue's messages not yet delivered. */
function view(ctx: Ctx, q: StoredQueue) {
  const lag = Object.values(ctx.store.state.messages).filter((m) => m.queueName === q.name).length;
  return { name: q.name, parallelism: q.parallelism, paused: q.paused, lag, createdAt: q.createdAt, updatedAt: q.updatedAt };
}

/** `POST /v2/queues` `{queueName, parallelism, paused}`: create or update. */
export const upsertQueue: Handler = async (ctx, req) => {
  let body: { queueName?: unknown; parallelism?: unknown; paused?: unknown };
  try {
    body = JSON.parse((await req.body()).toString("utf8")) as typeof body;
  } catch {
    throw new HttpError(400, "queue upsert body must be JSON {queueName, parallelism?, paused?}");
  }
  if (typeof body.queueName !== "string" || body.queueName === "") throw new HttpError(400, "queueName is required");
  const parallelism = body.parallelism ?? 1;
  if (typeof parallelism !== "number" || !Number.isInteger(parallelism) || parallelism < 1) throw new HttpError(400, `invalid parallelism ${JSON.stringify(parallelism)}: a whole number >= 1`);
  if (body.paused !== undefined && typeof body.paused !== "boolean") throw new HttpError(400, "paused must be true or false");
  const q = ensureQueue(ctx, body.queueName);
  Object.assign(q, { parallelism, paused: body.paused ?? false, updatedAt: ctx.clock.now() });
  ctx.store.changed();
  ctx.engine.kick();
  return { status: 200 };
};

export const listQueues: Handler = (ctx) => ({
  status: 200,
  body: Object.values(ctx.store.state.queues)
    .sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name))
    .map((q) => view(ctx, q)),
});

export const getQueue: Handler = (ctx, req) => ({ status: 200, body: view(ctx, existing(ctx, req.params[0]!)) });

/**
 * `DELETE /v2/queues/{name}`. Its waiting messages are cancelled with it (they could never be
 * delivered in order otherwise); an attempt in flight finishes and is not retried.
 */
export const deleteQueue: Handler = (ctx, req) => {
  const q = existing(ctx, req.params[0]!);
  for (const m of Object.values(ctx.store.state.messages)) if (m.queueName === q.name) ctx.engine.cancel(m.messageId);
  delete ctx.store.state.queues[q.name];
  ctx.store.changed();
  return { status: 200 };
};

/** `POST /v2/queues/{name}/pause|resume`: a paused queue starts nothing; enqueueing still works. */
export const pauseOrResumeQueue: Handler = (ctx, req) => {
  const q = existing(ctx, req.params[0]!);
  q.paused = req.params[1] === "pause";
  q.updatedAt = ctx.clock.now();
  ctx.store.changed();
  ctx.engine.kick();
  return { status: 200 };
};
