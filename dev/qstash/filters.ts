import { HttpError } from "./http";

/**
 * The filters of the bulk endpoints (`DELETE /v2/messages`, `GET /v2/events`, the DLQ ones), as
 * @upstash/qstash 2.12 sends them: one query key per field, repeated for several values (OR within
 * a field, AND across fields). A key an endpoint does not know is refused with 400 instead of
 * being ignored: an ignored filter on a bulk delete turns "delete these" into "delete everything".
 */

/** What a filter looks at; each endpoint builds this from a message, an event or a DLQ entry. */
export interface Subject {
  url: string;
  messageId?: string;
  topicName?: string;
  scheduleId?: string;
  queueName?: string;
  flowControlKey?: string;
  callerIp?: string;
  labels?: string[];
  state?: string;
  responseStatus?: number;
  /** What fromDate/toDate compare against (ms). */
  time: number;
}

const UNIVERSAL = ["fromDate", "toDate", "callerIp", "label", "flowControlKey", "url", "topicName", "scheduleId", "queueName"];
/** `api` was removed from the API; the SDK marks it deprecated and "ignored", so it is accepted and ignored. */
const IGNORED = ["api", "count", "cursor"];

export const MESSAGE_FILTERS = new Set([...UNIVERSAL, ...IGNORED, "host", "path", "messageIds"]);
export const EVENT_FILTERS = new Set([...UNIVERSAL, ...IGNORED, "host", "path", "state", "messageIds", "messageId"]);
export const DLQ_FILTERS = new Set([...UNIVERSAL, ...IGNORED, "messageId", "responseStatus", "dlqIds"]);

/** Throws 400 naming the first key the endpoint does not filter on. */
export function checkFilterKeys(q: URLSearchParams, allowed: Set<string>, endpoint: string): void {
  for (const key of q.keys()) {
    if (key === "qstash_token" || allowed.has(key)) continue;
    const hint = (key === "host" || key === "path") && endpoint.includes("dlq") ? " (the DLQ does not filter by host or path; use url)" : "";
    throw new HttpError(400, `invalid filter "${key}" for ${endpoint}${hint}: use one of ${[...allowed].filter((k) => !IGNORED.includes(k)).join(", ")}`);
  }
  for (const key of ["fromDate", "toDate", "responseStatus"]) {
    for (const v of q.getAll(key)) if (!/^\d+$/.test(v)) throw new HttpError(400, `invalid filter ${key}="${v}": expected a whole number${key === "responseStatus" ? "" : " (unix ms)"}`);
  }
}

function urlParts(url: string): { host: string; hostname: string; path: string } {
  try {
    const u = new URL(url);
    return { host: u.host, hostname: u.hostname, path: u.pathname };
  } catch {
    return { host: "", hostname: "", path: "" };
  }
}

/** Whether `s` passes every filter in `q` (keys already checked). */
export function matches(s: Subject, q: URLSearchParams): boolean {
  const anyOf = (key: string, value: string | number | undefined) => {
    const wanted = q.getAll(key);
    return wanted.length === 0 || (value !== undefined && wanted.includes(String(value)));
  };
  if (!anyOf("url", s.url) || !anyOf("topicName", s.topicName) || !anyOf("scheduleId", s.scheduleId) || !anyOf("queueName", s.queueName)) return false;
  if (!anyOf("flowControlKey", s.flowControlKey) || !anyOf("callerIp", s.callerIp) || !anyOf("state", s.state)) return false;
  if (!anyOf("messageId", s.messageId) || !anyOf("responseStatus", s.responseStatus)) return false;
  const labels = q.getAll("label");
  if (labels.length > 0 && !labels.some((l) => s.labels?.includes(l))) return false;
  const hosts = q.getAll("host");
  const paths = q.getAll("path");
  if (hosts.length > 0 || paths.length > 0) {
    const p = urlParts(s.url);
    // `host` as URL.host (with the port) or as the bare name: a local URL always has a port.
    if (hosts.length > 0 && !hosts.some((h) => h === p.host || h === p.hostname)) return false;
    if (paths.length > 0 && !paths.includes(p.path)) return false;
  }
  const from = q.get("fromDate");
  const to = q.get("toDate");
  if (from !== null && s.time < Number(from)) return false;
  if (to !== null && s.time > Number(to)) return false;
  return true;
}
