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
