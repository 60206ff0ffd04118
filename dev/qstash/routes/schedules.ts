import type { Handler } from "../context";
import { checkDestination, parsePublish } from "../headers";
import { HttpError } from "../http";
import { randomId } from "../ids";
import { parseCron } from "../scheduler";
import { scheduleView } from "../views";
import { groupOf } from "./url-groups";

const first = (h: Record<string, string[]>, name: string) => h[name]?.join(", ").trim();

/**
 * `POST /v2/schedules/{destination}` with `Upstash-Cron`. An existing `Upstash-Schedule-Id` is
 * replaced whole: a header left out this time is cleared, and a paused schedule resumes.
 */
export const createSchedule: Handler = async (ctx, req) => {
  const raw = req.params[0]!;
  const destination = req.rawQuery ? `${raw}?${req.rawQuery}` : raw;
  // A URL group fans out at each tick to the endpoints it has then.
  const group = groupOf(ctx, destination);
  const url = group ? group.name : checkDestination(destination);
  const cron = first(req.headers, "upstash-cron");
  if (!cron) throw new HttpError(400, "Upstash-Cron header is required, e.g. Upstash-Cron: */5 * * * *");
  try {
    parseCron(cron);
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
  const id = first(req.headers, "upstash-schedule-id") || randomId("scd_");
  if (!/^[A-Za-z0-9_.-]+$/.test(id) || id.length > 200) throw new HttpError(400, `invalid Upstash-Schedule-Id "${id}": use letters, digits, -, _ and .`);
  const p = parsePublish(req.headers, url, await req.body(), first(req.headers, "upstash-queue-name") || undefined);
  if (group) p.spec.topicName = group.name;
  ctx.scheduler.upsert({
    scheduleId: id,
    cron: cron.trim(),
    createdAt: ctx.clock.now(),
    spec: p.spec,
    delayMs: p.delayMs,
    isPaused: false,
    callerIp: req.callerIp,
  });
  return { status: 201, body: { scheduleId: id } };
};

const existing = (ctx: Parameters<Handler>[0], id: string) => {
  const s = ctx.store.state.schedules[id];
  if (!s) throw new HttpError(404, `schedule ${id} not found`);
  return s;
};

/** `GET /v2/schedules`, oldest first. */
export const listSchedules: Handler = (ctx) => ({
  status: 200,
  body: Object.values(ctx.store.state.schedules)
    .sort((a, b) => a.createdAt - b.createdAt || a.scheduleId.localeCompare(b.scheduleId))
    .map(scheduleView),
});

export const getSchedule: Handler = (ctx, req) => ({ status: 200, body: scheduleView(existing(ctx, decodeURIComponent(req.params[0]!))) });

export const deleteSchedule: Handler = (ctx, req) => {
  const id = decodeURIComponent(req.params[0]!);
  existing(ctx, id);
  ctx.scheduler.delete(id);
  return { status: 200 };
};

/** `PATCH` (the SDK) or `POST` (the docs) `/v2/schedules/{id}/pause|resume`. */
export const pauseOrResume: Handler = (ctx, req) => {
  const id = decodeURIComponent(req.params[0]!);
  existing(ctx, id);
  ctx.scheduler.setPaused(id, req.params[1] === "pause");
  return { status: 200 };
};
