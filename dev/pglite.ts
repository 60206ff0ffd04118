import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { startGate, type Gate } from "./pglite-gate";

/**
 * Embedded PostgreSQL (PGlite) behind its wire-protocol socket server, so the app, the CLI and
 * migrations talk to it with postgres.js exactly as they would to a real server. Connections share
 * one session, so a gate (pglite-gate.ts) lets one client speak at a time: any pool size is safe,
 * but work is serial; concurrency tests use real PostgreSQL.
 */
export async function startEmbeddedPostgres(opts: { dataDir: string; host?: string; port?: number }) {
  await mkdir(opts.dataDir, { recursive: true });
  const db = await PGlite.create(opts.dataDir);
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? 54329;
  // The socket server listens on a port of its own that only the gate uses.
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 64 });
  let gate: Gate;
  try {
    await server.start();
    const [, upstreamPort] = server.getServerConn().split(":");
    gate = await startGate({ host, port, upstream: { host: "127.0.0.1", port: Number(upstreamPort) } });
  } catch (err) {
    await server.stop().catch(() => {});
    await db.close();
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new Error(`port ${port} is in use (embedded Postgres): stop the other process, or set DATABASE_URL to a PostgreSQL you run.`);
    }
    throw err;
  }
  return {
    url: gate.url(),
    async stop() {
      await gate.close();
      await server.stop();
      await db.close();
    },
  };
}
