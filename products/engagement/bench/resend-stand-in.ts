import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Resend at a fixed latency per request, for the benchmarks: `POST /emails` and `POST
 * /emails/batch`, Idempotency-Key honoured as Resend does (a repeat answers the first answer and
 * sends nothing). It counts requests and emails apart, and emails per recipient: what the
 * exactly-once check reads.
 */
export interface ResendStandIn {
  url: string;
  /** Emails made, per recipient address. */
  perRecipient: Map<string, number>;
  requests: number;
  emails: number;
  /** Requests answered from an earlier one with the same key. */
  replays: number;
  /** When each request arrived (performance.now()). */
  arrivals: number[];
  close(): Promise<void>;
}

export async function resendStandIn(latencyMs: number): Promise<ResendStandIn> {
  const kept = new Map<string, string>();
  let ids = 0;
  const s: ResendStandIn = { url: "", perRecipient: new Map(), requests: 0, emails: 0, replays: 0, arrivals: [], close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      s.requests++;
      s.arrivals.push(performance.now());
      const key = String(req.headers["idempotency-key"] ?? "");
      let answer = kept.get(key);
      if (answer !== undefined) s.replays++;
      else {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { to: string } | { to: string }[];
        const emails = Array.isArray(body) ? body : [body];
        for (const e of emails) s.perRecipient.set(String(e.to), (s.perRecipient.get(String(e.to)) ?? 0) + 1);
        s.emails += emails.length;
        const made = emails.map(() => ({ id: `email-${++ids}` }));
        answer = JSON.stringify(Array.isArray(body) ? { data: made, errors: [] } : made[0]);
        if (key) kept.set(key, answer);
      }
      setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end(answer), latencyMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  s.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return s;
}

/** Times each call of `fn` made through `db.rpc` (a send job's page settle): [started at, ms]. */
export function timeRpc<D extends { rpc: (fn: string, ...rest: never[]) => Promise<unknown> }>(db: D, fn: string, into: [number, number][]): D {
  const rpc = db.rpc.bind(db) as (name: string, ...rest: unknown[]) => Promise<unknown>;
  (db as { rpc: unknown }).rpc = async (name: string, ...rest: unknown[]) => {
    if (name !== fn) return rpc(name, ...rest);
    const t0 = performance.now();
    try {
      return await rpc(name, ...rest);
    } finally {
      into.push([t0, performance.now() - t0]);
    }
  };
  return db;
}

/** Mean settle time of the first and the last tenth of the pages, in the order they settled. */
export function settleTenths(times: [number, number][]): { first: number; last: number; pages: number } {
  const sorted = [...times].sort((a, b) => a[0] - b[0]).map((t) => t[1]);
  const tenth = Math.max(1, Math.floor(sorted.length / 10));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { first: mean(sorted.slice(0, tenth)), last: mean(sorted.slice(-tenth)), pages: sorted.length };
}
