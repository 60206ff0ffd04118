import { parseRetryAfter } from "./duration";
import { compileRetryDelay, defaultBackoffMs } from "./retry-delay";
import type { AttemptResponse, MessageSpec, StoredMessage } from "./types";

const header = (r: AttemptResponse | undefined, name: string) => r?.header[name]?.[0];

/** 489 + `Upstash-NonRetryable-Error: true`: the destination says retrying cannot help. */
export function isNonRetryable(r: AttemptResponse | undefined): boolean {
  return r?.status === 489 && header(r, "Upstash-Nonretryable-Error")?.toLowerCase() === "true";
}

export const isSuccess = (r: AttemptResponse | undefined): boolean => r !== undefined && r.status >= 200 && r.status < 300;

/**
 * How long to wait before retrying the attempt that just failed (made with `msg.retried` retries
 * behind it): the answer's Retry-After (or X-RateLimit-Reset) wins, then the message's
 * Upstash-Retry-Delay (`retried` = 0 before the first retry), then the default backoff (n = 1
 * before the first retry: 12 s, 2m28s, ...).
 */
export function nextRetryDelay(msg: StoredMessage, r: AttemptResponse | undefined, now: number): number {
  const asked = parseRetryAfter(header(r, "Retry-After"), now) ?? parseRetryAfter(header(r, "X-Ratelimit-Reset"), now, "x-ratelimit-reset");
  if (asked !== undefined) return asked;
  if (msg.retryDelay) return compileRetryDelay(msg.retryDelay)(msg.retried);
  return defaultBackoffMs(msg.retried + 1);
}

/**
 * The JSON body QStash POSTs to a callback (after each attempt) or a failure callback (once
 * retries are exhausted; with `dlqId`). Bodies are base64.
 */
export function callbackBody(msg: StoredMessage, r: AttemptResponse | undefined, error: string | undefined, dlqId?: string): string {
  return JSON.stringify({
    ...(r && { status: r.status }),
    header: r?.header ?? {},
    body: r?.bodyBase64 ?? "",
    ...(error !== undefined && { error }),
    retried: msg.retried,
    maxRetries: msg.retries,
    ...(dlqId !== undefined && { dlqId }),
    sourceMessageId: msg.messageId,
    url: msg.url,
    method: msg.method,
    sourceHeader: msg.header,
    sourceBody: msg.bodyBase64,
    notBefore: msg.notBefore,
    createdAt: msg.createdAt,
    ...(msg.scheduleId !== undefined && { scheduleId: msg.scheduleId }),
    callerIP: msg.callerIp,
  });
}

/** A callback is itself a message: POSTed, signed for its own URL, with the source's retry settings. */
export function callbackSpec(msg: StoredMessage, url: string, body: string): MessageSpec {
  return {
    url,
    method: "POST",
    header: { "Content-Type": ["application/json"] },
    bodyBase64: Buffer.from(body).toString("base64"),
    retries: msg.retries,
    ...(msg.retryDelay !== undefined && { retryDelay: msg.retryDelay }),
    ...(msg.timeoutMs !== undefined && { timeoutMs: msg.timeoutMs }),
  };
}

const SPEC_KEYS = ["url", "method", "header", "bodyBase64", "retries", "retryDelay", "callback", "failureCallback", "timeoutMs", "flow", "labels", "queueName", "topicName", "endpointName"] as const;

/** The publish-time part of a stored message (what a DLQ retry re-publishes). */
export function specOf(msg: StoredMessage): MessageSpec {
  const spec: Record<string, unknown> = {};
  for (const k of SPEC_KEYS) if (msg[k] !== undefined) spec[k] = msg[k];
  return spec as unknown as MessageSpec;
}
