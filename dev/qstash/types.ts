/** The server's state, as kept in memory and in the state file. Times are ms on the server clock. */

/** Header name (canonical, e.g. `Content-Type`) to values, the shape QStash's API answers with. */
export type HeaderMap = Record<string, string[]>;

export interface FlowSpec {
  key: string;
  parallelism?: number;
  rate?: number;
  /** Rate window in seconds (QStash's default is one second). */
  period: number;
}

/** What a publish (or a schedule tick) asks to be delivered. */
export interface MessageSpec {
  url: string;
  method: string;
  /** Delivered as is: forwarded headers (prefix stripped) and Content-Type. */
  header: HeaderMap;
  /** The body exactly as received, base64 so that any bytes survive the JSON state file. */
  bodyBase64: string;
  retries: number;
  retryDelay?: string;
  callback?: string;
  failureCallback?: string;
  timeoutMs?: number;
  flow?: FlowSpec;
  labels?: string[];
  queueName?: string;
  /** Set when published to a URL group: each endpoint gets its own message. */
  topicName?: string;
  endpointName?: string;
}

export type MessageKind = "message" | "callback" | "failureCallback";

export interface StoredMessage extends MessageSpec {
  messageId: string;
  /** Creation order: FIFO order for queues. */
  seq: number;
  kind: MessageKind;
  createdAt: number;
  notBefore: number;
  /** When the next attempt may start. */
  deliverAt: number;
  /** Attempts already made (Upstash-Retried of the next attempt). */
  retried: number;
  callerIp: string;
  scheduleId?: string;
  /** Cancelled while an attempt was in flight: no further attempts. */
  cancelled?: boolean;
}

export interface AttemptResponse {
  status: number;
  header: HeaderMap;
  bodyBase64: string;
}

export interface DlqEntry {
  dlqId: string;
  seq: number;
  message: StoredMessage;
  response?: AttemptResponse;
  error?: string;
  failedAt: number;
}

export type ScheduleState = "IN_PROGRESS" | "SUCCESS" | "FAIL";

export interface StoredSchedule {
  scheduleId: string;
  /** As given (trimmed), `CRON_TZ=` prefix included. */
  cron: string;
  createdAt: number;
  spec: MessageSpec;
  delayMs: number;
  isPaused: boolean;
  callerIp: string;
  lastScheduleTime?: number;
  nextScheduleTime?: number;
  lastScheduleStates?: Record<string, ScheduleState>;
}

export type EventState = "CREATED" | "ACTIVE" | "RETRY" | "ERROR" | "DELIVERED" | "FAILED" | "CANCEL_REQUESTED" | "CANCELLED";

export interface EventRecord {
  seq: number;
  time: number;
  state: EventState;
  messageId: string;
  url: string;
  method?: string;
  header?: Record<string, string>;
  body?: string;
  nextDeliveryTime?: number;
  error?: string;
  responseStatus?: number;
  responseBody?: string;
  responseHeader?: HeaderMap;
  scheduleId?: string;
  queueName?: string;
  topicName?: string;
  endpointName?: string;
  flowControlKey?: string;
  callerIp?: string;
  label?: string;
  labels?: string[];
}

export interface DedupEntry {
  messageId: string;
  url: string;
  expiresAt: number;
}

export interface StoredQueue {
  name: string;
  parallelism: number;
  paused: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface UrlGroupEndpoint {
  name?: string;
  url: string;
}

export interface StoredUrlGroup {
  name: string;
  endpoints: UrlGroupEndpoint[];
  createdAt: number;
  updatedAt: number;
}

/** What the flow-control admin API set on a key; kept apart from the per-message settings. */
export interface FlowAdmin {
  paused?: boolean;
  pin?: { parallelism?: number; rate?: number; period?: number };
}

export interface State {
  version: 1;
  seq: number;
  messages: Record<string, StoredMessage>;
  schedules: Record<string, StoredSchedule>;
  dlq: DlqEntry[];
  dedup: Record<string, DedupEntry>;
  events: EventRecord[];
  queues: Record<string, StoredQueue>;
  urlGroups: Record<string, StoredUrlGroup>;
  flowAdmin: Record<string, FlowAdmin>;
}

export const emptyState = (): State => ({ version: 1, seq: 0, messages: {}, schedules: {}, dlq: [], dedup: {}, events: [], queues: {}, urlGroups: {}, flowAdmin: {} });
