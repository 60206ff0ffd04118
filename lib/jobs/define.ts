import type { Redis } from "@upstash/redis";
import { z } from "zod";
import type { Trigger } from "../auth";
import type { Db } from "../db/types";
import type { Env } from "../env";
import type { Logger } from "../log";
import type { Providers } from "../providers";

export type Overlap = "skip" | "allow";
export type JobStats = Record<string, unknown>;

export interface RunInfo {
  id: string;
  trigger: Trigger;
  attempt: number;
  messageId: string | undefined;
  scheduleId: string | undefined;
  /** The cron tick this run belongs to, for scheduled runs. */
  slotAt: Date | undefined;
}

/** What a handler gets: everything it may touch, nothing about HTTP. */
export interface JobContext<P> {
  payload: P;
  db: Db;
  redis: Redis | undefined;
  env: Env;
  log: Logger;
  /** Stripe, email, notifications, Google OAuth, Slack: live, or the outbox in local mode. */
  providers: Providers;
  /** The time the run started; handlers use it instead of `new Date()` so tests can fix time. */
  now: Date;
  /** Aborted when the job's timeout passes; pass it to fetch and long loops. */
  signal: AbortSignal;
  run: RunInfo;
}

export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  payload: S;
  timeoutMs: number;
  overlap: Overlap;
  handler: (ctx: JobContext<z.output<S>>) => Promise<JobStats | void>;
}

const NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const emptyPayload = z.object({});
const RESERVED = ["failed"];

export function defineJob<S extends z.ZodType = typeof emptyPayload>(def: {
  name: string;
  description: string;
  payload?: S;
  timeoutMs?: number;
  overlap?: Overlap;
  handler: (ctx: JobContext<z.output<S>>) => Promise<JobStats | void>;
}): JobDefinition<S> {
  if (!NAME.test(def.name)) throw new Error(`Job name "${def.name}" must be kebab-case (a-z, 0-9, '-'): it becomes a URL path.`);
  if (RESERVED.includes(def.name)) throw new Error(`Job name "${def.name}" is reserved: /api/jobs/${def.name} is a route of its own.`);
  const timeoutMs = def.timeoutMs ?? 60_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new Error(`Job "${def.name}": timeoutMs must be a positive integer.`);
  return {
    name: def.name,
    description: def.description,
    payload: (def.payload ?? emptyPayload) as S,
    timeoutMs,
    overlap: def.overlap ?? "skip",
    handler: def.handler,
  };
}
