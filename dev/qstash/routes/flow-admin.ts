import type { Ctx, Handler } from "../context";
import { effectiveFlow } from "../gates";
import { HttpError } from "../http";
import type { FlowAdmin } from "../types";

/**
 * The flow-control admin API of @upstash/qstash 2.12 (`client.flowControl`). A key exists once a
 * message used it (or the admin API touched it). Pins and pauses are part of the state, so they
 * survive a restart as on QStash.
 */

const keyOf = (raw: string) => decodeURIComponent(raw);

function known(ctx: Ctx, key: string): boolean {
  return ctx.engine.gates.flows.has(key) || ctx.store.state.flowAdmin[key] !== undefined;
}

function admin(ctx: Ctx, key: string): FlowAdmin {
  return (ctx.store.state.flowAdmin[key] ??= {});
}

/** The SDK's `FlowControlInfo`; a key only pinned or paused shows zeros for what no message set. */
function info(ctx: Ctx, key: string) {
  const f = ctx.engine.gates.flows.get(key);
  const a = ctx.store.state.flowAdmin[key];
  const eff = f ? effectiveFlow(f, a) : { parallelism: a?.pin?.parallelism, rate: a?.pin?.rate, period: a?.pin?.period ?? 1 };
  const now = ctx.clock.now();
  const windowOpen = f !== undefined && now < f.windowStart + eff.period * 1000;
  return {
    flowControlKey: key,
    waitListSize: ctx.engine.waitListSize(key),
    parallelismMax: eff.parallelism ?? 0,
    parallelismCount: f?.active ?? 0,
    rateMax: eff.rate ?? 0,
    rateCount: windowOpen ? f.started : 0,
    ratePeriod: eff.period,
    ratePeriodStart: windowOpen ? f.windowStart : 0,
    isPaused: a?.paused === true,
    isPinnedParallelism: a?.pin?.parallelism !== undefined,
    isPinnedRate: a?.pin?.rate !== undefined,
  };
}

function existingKey(ctx: Ctx, raw: string): string {
  const key = keyOf(raw);
  if (!known(ctx, key)) throw new HttpError(404, `flow control key ${key} not found`);
  return key;
}

/** `GET /v2/flowControl`: every key, sorted by name (not in SDK 2.12; the shape of `get`, as an array). */
export const listFlowControl: Handler = (ctx) => {
  const keys = new Set([...ctx.engine.gates.flows.keys(), ...Object.keys(ctx.store.state.flowAdmin)]);
  return { status: 200, body: [...keys].sort().map((k) => info(ctx, k)) };
};

export const getFlowControl: Handler = (ctx, req) => ({ status: 200, body: info(ctx, existingKey(ctx, req.params[0]!)) });

/** No global cap runs here: `parallelismMax` 0 says "none", the count is every attempt in flight. */
export const globalParallelism: Handler = (ctx) => ({ status: 200, body: { parallelismMax: 0, parallelismCount: ctx.engine.activeCount } });

function positive(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new HttpError(400, `invalid ${name} "${v}": a whole number >= 1`);
  return Number(v);
}

/** `POST /v2/flowControl/{key}/pause|resume|pin|unpin|resetRate` */
export const flowAction: Handler = (ctx, req) => {
  const key = keyOf(req.params[0]!);
  const action = req.params[1]!;
  // Pausing or pinning a key no message used yet is allowed: it takes effect for the first one.
  if (action !== "pause" && action !== "pin") existingKey(ctx, req.params[0]!);
  const a = admin(ctx, key);
  if (action === "pause") a.paused = true;
  else if (action === "resume") delete a.paused;
  else if (action === "pin") {
    const pin = { parallelism: positive(req.query, "parallelism"), rate: positive(req.query, "rate"), period: positive(req.query, "period") };
    if (pin.parallelism === undefined && pin.rate === undefined && pin.period === undefined) throw new HttpError(400, "pin needs parallelism, rate and/or period");
    a.pin = { ...a.pin, ...Object.fromEntries(Object.entries(pin).filter(([, v]) => v !== undefined)) };
  } else if (action === "unpin") {
    const q = req.query;
    const all = !q.has("parallelism") && !q.has("rate");
    const pin = { ...a.pin };
    if (all || q.get("parallelism") === "true") delete pin.parallelism;
    if (all || q.get("rate") === "true") {
      delete pin.rate;
      delete pin.period;
    }
    if (Object.keys(pin).length > 0) a.pin = pin;
    else delete a.pin;
  } else ctx.engine.gates.resetRate(key, ctx.clock.now());
  ctx.store.changed();
  ctx.engine.kick();
  return { status: 200 };
};
