import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

type Handler = (req: Request, ctx: { params: Promise<{ job: string }> }) => Promise<Response>;

/**
 * The real route handlers behind a real HTTP server on 127.0.0.1, for tests that need QStash (the
 * local server) to deliver over the network: `/api/<kind>/<job>` goes to `routes[kind]`.
 */
export async function serveRoutes(routes: Record<string, { GET: Handler; POST: Handler }>): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const m = /^\/api\/([^/]+)\/([^/?]+)/.exec(req.url ?? "");
        const route = m && routes[m[1]!];
        if (!m || !route || (req.method !== "GET" && req.method !== "POST")) {
          res.writeHead(404).end("no such route");
          return;
        }
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
        const request = new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers, body: req.method === "POST" ? Buffer.concat(chunks) : undefined });
        const answer = await route[req.method](request, { params: Promise.resolve({ job: decodeURIComponent(m[2]!) }) });
        res.writeHead(answer.status, Object.fromEntries(answer.headers)).end(Buffer.from(await answer.arrayBuffer()));
      })().catch((err: unknown) => res.writeHead(500).end(String(err)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
