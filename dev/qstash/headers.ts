import { createHash } from "node:crypto";
import { parseDuration } from "./duration";
import { parseFlowControl } from "./flow-control";
import { HttpError } from "./http";
import { compileRetryDelay } from "./retry-delay";
import type { HeaderMap, MessageSpec } from "./types";

/** A publish request's headers, read: what to deliver, when, and how to deduplicate it. */
export interface PublishRequest {
  spec: MessageSpec;
  delayMs: number;
  /** From Upstash-Not-Before (ms); wins over the delay. */
  notBefore?: number;
  dedupKey?: string;
}

const METHODS = new Set(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]);
const FORWARD = "upstash-forward-";

/** Go's canonical header form, which QStash answers with: `x-api-key` -> `X-Api-Key`. */
export function canonicalHeader(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

const one = (h: Record<string, string[]>, name: string): string | undefined => {
  const v = h[name];
  return v === undefined ? undefined : v.join(", ").trim();
};

/** Throws the QStash error for anything but an absolute http(s) URL; a URL-group name no group has gets a 404. */
export function checkDestination(destination: string): string {
  if (!destination.includes("://")) {
    if (/^[A-Za-z0-9_-]+$/.test(destination)) throw new HttpError(404, `topic ${destination} not found`);
    throw new HttpError(400, "invalid destination url: endpoint has invalid scheme, add http:// or https://");
  }
  if (!/^https?:\/\//i.test(destination)) throw new HttpError(400, "invalid destination url: endpoint has invalid scheme, add http:// or https://");
  try {
    new URL(destination);
  } catch {
    throw new HttpError(400, `invalid destination url: ${destination}`);
  }
  return destination;
}

function checkUrl(what: string, value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (!/^https?:\/\//i.test(value)) throw new HttpError(400, `invalid ${what} url: endpoint has invalid scheme, add http:// or https://`);
  try {
    new URL(value);
  } catch {
    throw new HttpError(400, `invalid ${what} url: ${value}`);
  }
  return value;
}

function duration(what: string, value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const ms = parseDuration(value);
  if (ms === undefined) throw new HttpError(400, `invalid ${what}: "${value}" (use e.g. 10s, 5m, 2h, 1d, 1d10h30m)`);
  return ms;
}

/** The headers delivered with the message: forwarded ones (prefix stripped) and Content-Type. */
function deliveredHeaders(h: Record<string, string[]>): HeaderMap {
  const out: HeaderMap = {};
  const type = h["content-type"];
  if (type) out["Content-Type"] = type;
  for (const [name, values] of Object.entries(h)) {
    if (name.startsWith(FORWARD) && name.length > FORWARD.length) out[canonicalHeader(name.slice(FORWARD.length))] = values;
  }
  return out;
}

/** Reads a publish's headers (lower-case names); throws HttpError 400 on a bad value. */
export function parsePublish(h: Record<string, string[]>, url: string, body: Buffer, queueName?: string): PublishRequest {
  const method = (one(h, "upstash-method") || "POST").toUpperCase();
  if (!METHODS.has(method)) throw new HttpError(400, `invalid Upstash-Method "${method}": use one of ${[...METHODS].join(", ")}`);

  const retriesText = one(h, "upstash-retries");
  let retries = 3;
  if (retriesText !== undefined && retriesText !== "") {
    if (!/^\d+$/.test(retriesText)) throw new HttpError(400, `invalid Upstash-Retries "${retriesText}": expected a whole number`);
    retries = Number(retriesText);
  }

  const retryDelay = one(h, "upstash-retry-delay") || undefined;
  if (retryDelay !== undefined) {
    try {
      compileRetryDelay(retryDelay);
    } catch (err) {
      throw new HttpError(400, `invalid Upstash-Retry-Delay "${retryDelay}": ${(err as Error).message}`);
    }
  }

  const timeoutMs = duration("Upstash-Timeout", one(h, "upstash-timeout"));
  if (timeoutMs !== undefined && timeoutMs <= 0) throw new HttpError(400, "invalid Upstash-Timeout: must be positive");

  const flowKey = one(h, "upstash-flow-control-key");
  let flow;
  if (flowKey) {
    try {
      flow = parseFlowControl(flowKey, one(h, "upstash-flow-control-value") ?? "");
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
  }

  const labels = (one(h, "upstash-label") ?? "")
    .split(",")
    .map((l) => l.trim())
    .filter(Boolean);

  const callback = checkUrl("callback", one(h, "upstash-callback"));
  const failureCallback = checkUrl("failure callback", one(h, "upstash-failure-callback"));
  const spec: MessageSpec = {
    url,
    method,
    header: deliveredHeaders(h),
    bodyBase64: body.toString("base64"),
    retries,
    ...(retryDelay !== undefined && { retryDelay }),
    ...(callback !== undefined && { callback }),
    ...(failureCallback !== undefined && { failureCallback }),
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(flow && { flow }),
    ...(labels.length > 0 && { labels }),
    ...(queueName && { queueName }),
  };

  const notBeforeText = one(h, "upstash-not-before");
  let notBefore: number | undefined;
  if (notBeforeText) {
    if (!/^\d+$/.test(notBeforeText)) throw new HttpError(400, `invalid Upstash-Not-Before "${notBeforeText}": expected unix seconds`);
    notBefore = Number(notBeforeText) * 1000;
  }

  const dedupId = one(h, "upstash-deduplication-id");
  const contentDedup = one(h, "upstash-content-based-deduplication")?.toLowerCase() === "true";
  const dedupKey = dedupId ? `id:${dedupId}` : contentDedup ? `content:${contentHash(spec)}` : undefined;

  return { spec, delayMs: duration("Upstash-Delay", one(h, "upstash-delay")) ?? 0, ...(notBefore !== undefined && { notBefore }), ...(dedupKey && { dedupKey }) };
}

/** Destination, body, content type and forwarded headers: what QStash hashes for content dedup. */
function contentHash(spec: MessageSpec): string {
  const headers = Object.entries(spec.header).sort(([a], [b]) => a.localeCompare(b));
  return createHash("sha256").update(JSON.stringify([spec.url, spec.method, spec.bodyBase64, headers])).digest("hex");
}
