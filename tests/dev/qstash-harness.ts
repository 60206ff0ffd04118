import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, Receiver } from "@upstash/qstash";
import { afterAll, afterEach, beforeAll, vi } from "vitest";
import { ManualClock, startQStashServer, type QStashServer, type QStashServerOptions } from "../../dev/qstash/server";

/** One request the destination received, stamped with the QStash server's clock. */
export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  at: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Real milliseconds to wait before answering. */
  delayMs?: number;
}

/** A real HTTP destination on 127.0.0.1 whose answers each test controls. */
export interface Destination {
  url: string;
  received: Received[];
  /** Sets how to answer (by default 200 "ok"); `i` counts requests from 0. */
  answer(fn: (r: Received, i: number) => Answer): void;
  maxConcurrent: number;
  close(): Promise<void>;
}

export async function startDestination(now: () => number): Promise<Destination> {
  let answer: (r: Received, i: number) => Answer = () => ({ status: 200, body: "ok" });
  let active = 0;
  const dest: Destination = {
    url: "",
    received: [],
    answer: (fn) => void (answer = fn),
    maxConcurrent: 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())).then(() => undefined),
  };
  const server: Server = createServer((req, res) => {
    active++;
    dest.maxConcurrent = Math.max(dest.maxConcurrent, active);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const r: Received = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body, text: body.toString("utf8"), at: now() };
      const a = answer(r, dest.received.length);
      dest.received.push(r);
      const send = () => {
        active--;
        if (!res.destroyed) res.writeHead(a.status, a.headers).end(a.body ?? "");
      };
      if (a.delayMs) setTimeout(send, a.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  dest.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = dest.close;
  dest.close = () => {
    server.closeAllConnections();
    return close();
  };
  return dest;
}

export interface Rig {
  clock: ManualClock;
  server: QStashServer;
  client: Client;
  receiver: Receiver;
  dest: Destination;
  /** Verifies a delivery's signature with the official Receiver, bound to `url`. */
  verify(r: Received, url: string): Promise<boolean>;
  close(): Promise<void>;
}

/** A server on a manual clock, a destination, and the official SDK pointed at the server. */
export async function startRig(opts: QStashServerOptions = {}): Promise<Rig> {
  const clock = opts.clock instanceof ManualClock ? opts.clock : new ManualClock(Date.now());
  const server = await startQStashServer({ port: 0, ...opts, clock });
  const dest = await startDestination(() => clock.now());
  // retry: false, so a rejected request fails at once instead of being retried by the SDK.
  const client = new Client({ baseUrl: server.url, token: server.token, retry: false, enableTelemetry: false });
  const receiver = new Receiver({ currentSigningKey: server.currentSigningKey, nextSigningKey: server.nextSigningKey });
  return {
    clock,
    server,
    client,
    receiver,
    dest,
    verify: (r, url) =>
      receiver.verify({
        signature: String(r.headers["upstash-signature"]),
        body: r.text,
        url,
        // The token's nbf/exp are on the server's clock, which a test may have set anywhere.
        clockTolerance: Math.ceil(Math.abs(r.at - Date.now()) / 1000) + 5,
      }),
    close: async () => {
      await server.close();
      await dest.close();
    },
  };
}

/** A failed SDK call's status and QStash error text (the SDK's own console.error is muted). */
export async function rejection(p: Promise<unknown>): Promise<{ status: number | undefined; error: string }> {
  const mute = vi.spyOn(console, "error").mockImplementation(() => {});
  try {
    await p;
  } catch (err) {
    const e = err as Error & { status?: number };
    let error = e.message;
    try {
      error = (JSON.parse(e.message) as { error: string }).error;
    } catch {
      /* not JSON: keep the message */
    }
    return { status: e.status, error };
  } finally {
    mute.mockRestore();
  }
  throw new Error("expected the call to fail, and it succeeded");
}

/**
 * Servers that keep their state in files under a temporary folder, on one manual clock, with one
 * destination: `start(file)` starts one (closed after each test); a second `start` on the same
 * file is the restart.
 */
export function persistedServers(prefix: string) {
  const clock = new ManualClock(Date.UTC(2026, 0, 15, 12, 0, 30));
  const servers: QStashServer[] = [];
  const p = {
    clock,
    /** Closed after each test; a test that closes one itself takes it off. */
    servers,
    dir: "",
    dest: undefined as unknown as Destination,
    async start(stateFile: string) {
      const server = await startQStashServer({ port: 0, clock, stateFile });
      servers.push(server);
      return { server, client: new Client({ baseUrl: server.url, token: server.token, retry: false, enableTelemetry: false }) };
    },
  };
  beforeAll(async () => {
    p.dir = mkdtempSync(join(tmpdir(), prefix));
    p.dest = await startDestination(() => clock.now());
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  afterAll(async () => {
    await p.dest.close();
    rmSync(p.dir, { recursive: true, force: true });
  });
  return p;
}
