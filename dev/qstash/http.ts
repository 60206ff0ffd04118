import { timingSafeEqual, createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** An error answered to the API caller in QStash's form: `{"error": "..."}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `message size exceeds the limit of ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) }).end(text);
}

export function sendEmpty(res: ServerResponse, status = 200): void {
  res.writeHead(status, { "Content-Length": 0 }).end();
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Bearer token or `?qstash_token=`, compared in constant time. */
export function checkAuth(req: IncomingMessage, query: URLSearchParams, token: string): void {
  const header = req.headers.authorization;
  let given: string | undefined;
  if (header !== undefined) {
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!m) throw new HttpError(401, "invalid authorization header: expected Bearer <QSTASH_TOKEN>");
    given = m[1]!;
  } else {
    given = query.get("qstash_token") ?? undefined;
  }
  if (given === undefined) throw new HttpError(401, "authorization header is missing: send Authorization: Bearer <QSTASH_TOKEN>");
  if (!timingSafeEqual(digest(given), digest(token))) throw new HttpError(401, "invalid token");
}

/** The caller's address as QStash reports it (no IPv4-mapped IPv6 prefix). */
export function callerIp(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
}

/** Request headers, lower-case names, every value kept apart. */
export function headerMap(req: IncomingMessage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) if (values) out[name] = values;
  return out;
}

/** Cursor paging over items sorted by `seq`: the cursor is the last seq returned. */
export function page<T extends { seq: number }>(items: T[], query: URLSearchParams, order: "asc" | "desc", defaultCount = 100): { items: T[]; cursor?: string } {
  const count = Math.max(1, Math.min(1000, Number(query.get("count") ?? defaultCount) || defaultCount));
  const raw = query.get("cursor");
  const after = raw ? Number(raw) : undefined;
  if (raw && !Number.isInteger(after)) throw new HttpError(400, `invalid cursor "${raw}"`);
  const sorted = [...items].sort((a, b) => (order === "asc" ? a.seq - b.seq : b.seq - a.seq));
  const rest = after === undefined ? sorted : sorted.filter((i) => (order === "asc" ? i.seq > after : i.seq < after));
  const slice = rest.slice(0, count);
  return rest.length > count ? { items: slice, cursor: String(slice[slice.length - 1]!.seq) } : { items: slice };
}
