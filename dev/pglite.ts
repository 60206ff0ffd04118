import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

/**
 * Embedded PostgreSQL (PGlite) behind its wire-protocol socket server, so the app, the CLI and
 * migrations talk to it with postgres.js exactly as they would to a real server. Connections share
 * one session: good for a local default, not for concurrency tests (those use real PostgreSQL).
 */
export async function startEmbeddedPostgres(opts: { dataDir: string; host?: string; port?: number }) {
  await mkdir(opts.dataDir, { recursive: true });
  const db = await PGlite.create(opts.dataDir);
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? 54329;
  // More connections than any pool we open: a pool larger than the limit hangs.
  const server = new PGLiteSocketServer({ db, host, port, maxConnections: 16 });
  try {
    await server.start();
  } catch (err) {
    await db.close();
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new Error(`port ${port} is in use (embedded Postgres): stop the other process, or set DATABASE_URL to a PostgreSQL you run.`);
    }
    throw err;
  }
  return {
    url: `postgres://postgres@${host}:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
