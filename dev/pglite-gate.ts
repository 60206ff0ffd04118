import { createServer, connect, type Server, type Socket } from "node:net";

/**
 * A gate in front of the embedded database's socket server. PGlite is one session: its socket
 * server hands every connection's protocol messages to that session one by one, so two clients'
 * extended-protocol exchanges interleave (one's Bind lands on the other's Parse: "bind message
 * supplies 3 parameters, but prepared statement "" requires 0", "portal "" does not exist").
 * The gate lets one client speak at a time: a client holds it from its first message until the
 * session is idle again (every Sync or simple query answered, ReadyForQuery says idle, not in a
 * transaction), as a transaction-mode pooler would. Whatever pool a process asks for is then safe.
 */
export interface Gate {
  url: (user?: string) => string;
  port: number;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

export async function startGate(opts: { host: string; port: number; upstream: { host: string; port: number } }): Promise<Gate> {
  let holder: Link | undefined;
  const waiting: Link[] = [];
  const links = new Set<Link>();

  const grant = () => {
    while (!holder && waiting.length) {
      const next = waiting.shift()!;
      if (next.closed) continue;
      holder = next;
      next.flush();
    }
  };
  const release = (link: Link) => {
    if (holder !== link) return;
    holder = undefined;
    grant();
  };

  class Link {
    closed = false;
    /** Client bytes not yet sent upstream (held while another client has the gate). */
    private queued: Buffer[] = [];
    private fromClient = Buffer.alloc(0);
    private fromServer = Buffer.alloc(0);
    private started = false;
    /** Answers still owed: the startup's and one per Sync, simple Query or FunctionCall. */
    private pending = 0;
    /** The server answers an SSL or GSS request with one untyped byte. */
    private oneByteAnswers = 0;
    readonly upstream: Socket;

    constructor(readonly client: Socket) {
      this.upstream = connect(opts.upstream.port, opts.upstream.host);
      client.on("data", (chunk) => this.onClient(chunk));
      this.upstream.on("data", (chunk) => this.onServer(chunk));
      const end = () => this.close();
      for (const s of [client, this.upstream]) {
        s.on("close", end);
        s.on("error", end);
      }
    }

    private onClient(chunk: Buffer) {
      this.queued.push(chunk);
      if (holder === this) return this.flush();
      if (!waiting.includes(this)) waiting.push(this);
      grant();
    }

    flush() {
      for (const chunk of this.queued.splice(0)) {
        this.count(chunk);
        this.upstream.write(chunk);
      }
    }

    /** Counts what the client sent that the server will answer with a ReadyForQuery. */
    private count(chunk: Buffer) {
      let buf = Buffer.concat([this.fromClient, chunk]);
      for (;;) {
        if (!this.started) {
          if (buf.length < 8) break;
          const len = buf.readInt32BE(0);
          if (buf.length < len) break;
          const code = buf.readInt32BE(4);
          if (code === SSL_REQUEST || code === GSS_REQUEST) this.oneByteAnswers++;
          else if (code !== CANCEL_REQUEST) {
            this.started = true;
            this.pending++;
          }
          buf = buf.subarray(len);
          continue;
        }
        if (buf.length < 5) break;
        const len = buf.readInt32BE(1) + 1;
        if (buf.length < len) break;
        const type = String.fromCharCode(buf[0]!);
        if (type === "S" || type === "Q" || type === "F") this.pending++;
        buf = buf.subarray(len);
      }
      this.fromClient = Buffer.from(buf);
    }

    private onServer(chunk: Buffer) {
      this.client.write(chunk);
      let buf = Buffer.concat([this.fromServer, chunk]);
      while (this.oneByteAnswers && buf.length) {
        this.oneByteAnswers--;
        buf = buf.subarray(1);
      }
      let ready = false;
      while (buf.length >= 5) {
        const len = buf.readInt32BE(1) + 1;
        if (buf.length < len) break;
        if (buf[0] === 0x5a /* Z: ReadyForQuery */) {
          this.pending = Math.max(0, this.pending - 1);
          ready = buf[5] === 0x49; /* I: idle, not in a transaction */
        }
        buf = buf.subarray(len);
      }
      this.fromServer = Buffer.from(buf);
      // Only a ReadyForQuery ends a turn: a Parse answered after a Flush still has its Bind to come.
      if (ready && this.pending === 0) release(this);
    }

    close() {
      if (this.closed) return;
      this.closed = true;
      links.delete(this);
      this.client.destroy();
      this.upstream.destroy();
      // The socket server rolls back an open transaction of a connection that goes away.
      release(this);
    }
  }

  const server: Server = createServer((client) => {
    client.setNoDelay(true);
    links.add(new Link(client));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: (user = "postgres") => `postgres://${user}@${opts.host}:${port}/postgres`,
    async close() {
      for (const l of links) l.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
