import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request at the edge, as the provider saw it. */
export interface VendorCall {
  vendor: "stripe" | "resend" | "slack";
  method: string;
  path: string;
  idempotencyKey: string | null;
  body: Record<string, unknown>;
}

/**
 * How the provider answers one request instead of acting normally. `act: true` makes the effect
 * first (the provider acted), then answers as given: the unknown-outcome case. `drop` resets the
 * connection instead of answering.
 */
export interface Fault {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
  act?: boolean;
  drop?: boolean;
}

/**
 * The providers at the edge of the child-process app (msw cannot reach into it): Stripe transfers
 * (form bodies, Idempotency-Key honoured, listed by transfer_group), Resend emails (Idempotency-Key
 * honoured) and a Slack webhook. `calls` counts every request; `made` counts what was made, by
 * effect key: a key made twice is a doubled effect whatever the outbox says.
 */
export interface Vendors {
  url: string;
  calls: VendorCall[];
  /** Objects made, per idempotency key (or per request when it has none). */
  made: Map<string, number>;
  transfers: { id: string; transfer_group: string; metadata: Record<string, string>; key: string | null }[];
  emails: { id: string; to: unknown; subject: unknown; key: string | null }[];
  /** Per-request override; `n` counts the requests of that vendor from 0. */
  fault: (call: VendorCall, n: number) => Fault | undefined;
  /** Called as each request arrives, before any answer (the crash scenario kills the app from here). */
  onCall: (call: VendorCall) => void;
  delayMs: number;
  /**
   * Whether a repeated Idempotency-Key returns the first object (default) or makes a new one, as
   * Stripe does once it has forgotten the key (24 h): the app must not lean on keys for money.
   */
  honourKeys: boolean;
  close(): Promise<void>;
}

export async function startVendors(): Promise<Vendors> {
  const replies = new Map<string, string>();
  const count = { stripe: 0, resend: 0, slack: 0 };
  const v: Vendors = {
    url: "",
    calls: [],
    made: new Map(),
    transfers: [],
    emails: [],
    fault: () => undefined,
    onCall: () => {},
    delayMs: 0,
    honourKeys: true,
    close: async () => {},
  };

  const make = (call: VendorCall): string => {
    const key = call.idempotencyKey;
    if (key && v.honourKeys && replies.has(key)) return replies.get(key)!;
    const id = key ?? randomUUID();
    v.made.set(id, (v.made.get(id) ?? 0) + 1);
    let reply: unknown;
    if (call.vendor === "stripe") {
      const metadata = Object.fromEntries(Object.entries(call.body).filter(([k]) => k.startsWith("metadata[")).map(([k, x]) => [k.slice(9, -1), String(x)]));
      const t = { id: `tr_${randomUUID().slice(0, 12)}`, object: "transfer", amount: Number(call.body.amount), currency: call.body.currency, destination: call.body.destination, transfer_group: String(call.body.transfer_group), metadata, created: Math.floor(Date.now() / 1000) };
      v.transfers.push({ id: t.id, transfer_group: t.transfer_group, metadata, key });
      reply = t;
    } else if (call.vendor === "resend") {
      const e = { id: randomUUID() };
      v.emails.push({ id: e.id, to: call.body.to, subject: call.body.subject, key });
      reply = e;
    } else reply = "ok";
    const text = typeof reply === "string" ? reply : JSON.stringify(reply);
    if (key) replies.set(key, text);
    return text;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const url = new URL(req.url ?? "/", "http://vendor");
    const vendor = url.pathname.startsWith("/v1/") ? "stripe" : url.pathname.startsWith("/slack") ? "slack" : "resend";
    let body: Record<string, unknown> = {};
    try {
      body = req.method === "GET" ? Object.fromEntries(url.searchParams) : vendor === "stripe" ? Object.fromEntries(new URLSearchParams(raw)) : (JSON.parse(raw || "{}") as Record<string, unknown>);
    } catch {
      body = { raw };
    }
    const call: VendorCall = { vendor, method: req.method ?? "", path: url.pathname, idempotencyKey: header(req, "idempotency-key"), body };
    v.calls.push(call);
    v.onCall(call);
    const fault = v.fault(call, count[vendor]++);
    const wait = fault?.delayMs ?? v.delayMs;
    if (wait) await new Promise((r) => setTimeout(r, wait));
    const json = { "content-type": "application/json" };
    if (fault?.drop) {
      if (fault.act) make(call);
      req.socket.resetAndDestroy();
      return;
    }
    if (fault && fault.status !== undefined) {
      if (fault.act) make(call);
      res.writeHead(fault.status, { ...json, ...fault.headers }).end(fault.body ?? JSON.stringify({ error: { type: "api_error", message: "injected" }, name: "application_error", message: "injected", statusCode: fault.status }));
      return;
    }
    if (vendor === "stripe" && req.method === "GET" && url.pathname === "/v1/transfers") {
      const group = url.searchParams.get("transfer_group");
      const data = v.transfers.filter((t) => !group || t.transfer_group === group).map((t) => ({ ...t, object: "transfer" }));
      res.writeHead(200, json).end(JSON.stringify({ object: "list", url: "/v1/transfers", has_more: false, data }));
      return;
    }
    res.writeHead(200, json).end(make(call));
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => void handle(req, res, Buffer.concat(chunks).toString("utf8")).catch(() => res.destroy()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  v.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  v.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return v;
}

const header = (req: IncomingMessage, name: string) => {
  const h = req.headers[name];
  return Array.isArray(h) ? (h[0] ?? null) : (h ?? null);
};
