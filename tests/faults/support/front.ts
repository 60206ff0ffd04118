import { createServer, request, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

/** One request that reached the app, and how it was answered. */
export interface Exchange {
  method: string;
  path: string;
  messageId: string | null;
  /** 0: the app gave no answer (it was down, or the connection broke). */
  status: number;
  body: string;
  startedAt: number;
  ms: number;
}

/**
 * The app's public URL (APP_URL, so signatures are bound to it): a plain HTTP forwarder to the
 * current `next start` that records every exchange, whoever sent it (the local QStash server or a
 * test). It outlives the app, so a crashed and restarted app keeps one address.
 */
export interface Front {
  url: string;
  exchanges: Exchange[];
  /** Where requests go; changed on restart. */
  target: number;
  close(): Promise<void>;
}

export async function startFront(): Promise<Front> {
  const front: Front = { url: "", exchanges: [], target: 0, close: async () => {} };
  const server = createServer((req, res) => {
    const startedAt = Date.now();
    const messageId = header(req, "upstash-message-id");
    const done = (status: number, body: string) =>
      front.exchanges.push({ method: req.method ?? "", path: req.url ?? "", messageId, status, body: body.slice(0, 2_000), startedAt, ms: Date.now() - startedAt });
    // A fresh connection per request: a pooled one the app is closing (or that died with it) would
    // turn into a spurious 502 that is no answer of the app's.
    const up = request({ host: "127.0.0.1", port: front.target, method: req.method, path: req.url, headers: req.headers, agent: false }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on("data", (c: Buffer) => chunks.push(c));
      answer.on("end", () => {
        const body = Buffer.concat(chunks);
        done(answer.statusCode ?? 0, body.toString("utf8"));
        res.writeHead(answer.statusCode ?? 502, answer.headers).end(body);
      });
      answer.on("error", () => {
        done(0, "");
        res.destroy();
      });
    });
    up.on("error", (err) => {
      done(0, err.message);
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" }).end(`app unreachable: ${err.message}`);
      else res.destroy();
    });
    req.pipe(up);
  });
  // Longer than the test's own client keeps an idle connection (undici: 4 s), so the client always
  // closes first and never sends on a connection this side is closing ("other side closed").
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  front.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  front.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return front;
}

const header = (req: IncomingMessage, name: string) => {
  const h = req.headers[name];
  return Array.isArray(h) ? (h[0] ?? null) : (h ?? null);
};
