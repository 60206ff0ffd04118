import type { DlqEntry, EventRecord, MessageSpec, StoredMessage, StoredSchedule } from "./types";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** `body` when the bytes are UTF-8 text, else `bodyBase64` (QStash's rule for API answers). */
export function bodyFields(base64: string, textKey = "body", base64Key = "bodyBase64"): Record<string, string> {
  if (base64 === "") return {};
  const bytes = Buffer.from(base64, "base64");
  try {
    return { [textKey]: utf8.decode(bytes) };
  } catch {
    return { [base64Key]: base64 };
  }
}

function flowFields(spec: MessageSpec) {
  if (!spec.flow) return {};
  const { key, parallelism, rate, period } = spec.flow;
  return { flowControlKey: key, ...(parallelism !== undefined && { parallelism }), ...(rate !== undefined && { rate }), period };
}

function commonFields(spec: MessageSpec) {
  return {
    method: spec.method,
    header: spec.header,
    ...bodyFields(spec.bodyBase64),
    ...(spec.retryDelay !== undefined && { retryDelayExpression: spec.retryDelay }),
    ...(spec.callback !== undefined && { callback: spec.callback }),
    ...(spec.failureCallback !== undefined && { failureCallback: spec.failureCallback }),
    ...(spec.queueName !== undefined && { queueName: spec.queueName }),
    ...(spec.timeoutMs !== undefined && { timeout: Math.round(spec.timeoutMs / 1000) }),
    ...flowFields(spec),
    ...(spec.labels && { label: spec.labels[0], labels: spec.labels }),
  };
}

/** `GET /v2/messages/{id}`: the SDK's `Message`. */
export function messageView(m: StoredMessage): Record<string, unknown> {
  return {
    messageId: m.messageId,
    url: m.url,
    ...(m.topicName !== undefined && { topicName: m.topicName }),
    ...(m.endpointName !== undefined && { endpointName: m.endpointName }),
    ...commonFields(m),
    maxRetries: m.retries,
    notBefore: m.notBefore,
    createdAt: m.createdAt,
    ...(m.scheduleId !== undefined && { scheduleId: m.scheduleId }),
    callerIp: m.callerIp,
  };
}

/** A DLQ entry: the SDK's `DlqMessage` (a message plus the last response). */
export function dlqView(d: DlqEntry): Record<string, unknown> {
  return {
    ...messageView(d.message),
    dlqId: d.dlqId,
    retried: d.message.retried,
    ...(d.response && {
      responseStatus: d.response.status,
      responseHeader: d.response.header,
      ...bodyFields(d.response.bodyBase64, "responseBody", "responseBodyBase64"),
    }),
    ...(d.error !== undefined && { error: d.error }),
  };
}

/** The SDK's `Schedule`. */
export function scheduleView(s: StoredSchedule): Record<string, unknown> {
  return {
    scheduleId: s.scheduleId,
    cron: s.cron,
    createdAt: s.createdAt,
    destination: s.spec.url,
    ...commonFields(s.spec),
    retries: s.spec.retries,
    delay: Math.round(s.delayMs / 1000),
    isPaused: s.isPaused,
    ...(s.lastScheduleTime !== undefined && { lastScheduleTime: s.lastScheduleTime }),
    ...(s.nextScheduleTime !== undefined && { nextScheduleTime: s.nextScheduleTime }),
    ...(s.lastScheduleStates !== undefined && { lastScheduleStates: s.lastScheduleStates }),
    callerIP: s.callerIp,
    callerIp: s.callerIp,
  };
}

/** The SDK's `LogPayload`. */
export function eventView(e: EventRecord): Record<string, unknown> {
  const { seq: _seq, ...rest } = e;
  return rest;
}
