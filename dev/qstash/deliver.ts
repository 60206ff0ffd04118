import { request as httpRequest, type OutgoingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { canonicalHeader } from "./headers";
import { signDelivery } from "./sign";
import type { AttemptResponse, HeaderMap, StoredMessage } from "./types";

/** The region QStash names in `Upstash-Region`; the SDK only reads it when QSTASH_REGION is set. */
export const REGION = "eu-central-1";

/** Response bodies kept for callbacks and the DLQ. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

export type AttemptResult = { response: AttemptResponse; error?: undefined } | { response?: undefined; error: string };

/** Every header real QStash puts on a delivery, signed with `signingKey` at clock time `now`. */
export function deliveryHeaders(msg: StoredMessage, signingKey: string, now: number): OutgoingHttpHeaders {
  const body = Buffer.from(msg.bodyBase64, "base64");
  const headers: OutgoingHttpHeaders = {};
  for (const [name, values] of Object.entries(msg.header)) headers[name] = values.length === 1 ? values[0] : values;
  Object.assign(headers, {
    "User-Agent": "Upstash-QStash",
    "Upstash-Signature": signDelivery({ url: msg.url, body, key: signingKey, now }),
    "Upstash-Message-Id": msg.messageId,
    "Upstash-Retried": String(msg.retried),
    "Upstash-Caller-Ip": msg.callerIp,
    "Upstash-Region": REGION,
  });
  if (msg.scheduleId !== undefined) headers["Upstash-Schedule-Id"] = msg.scheduleId;
  if (msg.topicName !== undefined) headers["Upstash-Topic-Name"] = msg.topicName;
  if (body.length > 0) headers["Content-Length"] = body.length;
  return headers;
}

/** One HTTP attempt. Never throws: network errors and timeouts come back as `error`. */
export function sendAttempt(opts: { url: string; method: string; headers: OutgoingHttpHeaders; body: Buffer; timeoutMs: number; signal: AbortSignal }): Promise<AttemptResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal.removeEventListener("abort", onAbort);
      resolve(r);
    };
    const send = opts.url.toLowerCase().startsWith("https:") ? httpsRequest : httpRequest;
    // agent: false, so no idle keep-alive socket outlives the attempt and holds a server open.
    const req = send(opts.url, { method: opts.method, headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on("data", (c: Buffer) => {
        if (kept >= MAX_RESPONSE_BYTES) return;
        chunks.push(c.subarray(0, MAX_RESPONSE_BYTES - kept));
        kept += c.length;
      });
      res.on("end", () => {
        const header: HeaderMap = {};
        for (const [name, values] of Object.entries(res.headersDistinct)) if (values) header[canonicalHeader(name)] = values;
        done({ response: { status: res.statusCode ?? 0, header, bodyBase64: Buffer.concat(chunks).toString("base64") } });
      });
      res.on("error", (err) => done({ error: err.message }));
    });
    const timer = setTimeout(() => {
      done({ error: `timeout: no response within ${opts.timeoutMs} ms (Upstash-Timeout)` });
      req.destroy();
    }, opts.timeoutMs);
    const onAbort = () => {
      done({ error: "aborted: the server is shutting down" });
      req.destroy();
    };
    opts.signal.addEventListener("abort", onAbort);
    req.on("error", (err) => done({ error: `${opts.method} ${opts.url}: ${err.message}` }));
    req.end(opts.body.length > 0 ? opts.body : undefined);
  });
}
