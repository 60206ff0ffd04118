import net from "node:net";

/**
 * A TCP proxy for fault tests: put it between a client and a real server (PostgreSQL, Redis, an
 * HTTP service) and make the path fail the ways networks fail. Protocol-blind: it moves bytes.
 *
 * Modes, for new connections (the mode in force when a connection arrives decides its fate):
 * - `pass`       forwarded to the target.
 * - `refuse`     reset at once after accept: the client sees ECONNRESET, as from a host that drops
 *                everything (the port stays the proxy's, so tests never race for it).
 * - `black-hole` accepted and never answered nor forwarded, even after a restore: a connect that
 *                hangs until the client's own connect timeout.
 * - `freeze`     accepted and held: nothing moves until `restore()`.
 * `freeze()` also stops every open connection in both directions; bytes are held, not lost.
 * `restore()` goes back to `pass` and releases every frozen connection, held bytes first.
 * `pass()` goes back to `pass` for new connections only: frozen ones stay frozen (a dead path
 * beside a working one, as after a failover).
 *
 * Test-scale traffic only: held bytes are buffered in memory without backpressure.
 */
export type ProxyMode = "pass" | "refuse" | "black-hole" | "freeze";

export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  readonly mode: ProxyMode;
  /** `url` with its host and port replaced by the proxy's (postgres://, redis://, http://...). */
  url(url: string): string;
  pass(): void;
  refuse(): void;
  blackHole(): void;
  freeze(): void;
  restore(): void;
  /** Resets every open connection on both sides, as a crashed server or a dropped route does. */
  dropAll(): void;
  /** Connections accepted so far, and those still open (client side). */
  stats(): { accepted: number; open: number; refused: number };
  close(): Promise<void>;
}

interface Link {
  client: net.Socket;
  upstream?: net.Socket;
  frozen: boolean;
  silent: boolean;
  toUpstream: Buffer[];
  toClient: Buffer[];
  upstreamClosed: boolean;
}

export async function startTcpProxy(target: { host: string; port: number }, listenHost = "127.0.0.1"): Promise<TcpProxy> {
  let mode: ProxyMode = "pass";
  const links = new Set<Link>();
  const counts = { accepted: 0, refused: 0 };

  const connectUpstream = (link: Link) => {
    const up = net.connect(target.port, target.host);
    link.upstream = up;
    up.on("error", () => {});
    up.on("data", (d: Buffer) => (link.frozen ? link.toClient.push(d) : link.client.write(d)));
    up.on("close", () => {
      link.upstreamClosed = true;
      if (!link.frozen) link.client.end();
    });
    for (const d of link.toUpstream.splice(0)) up.write(d);
  };

  const server = net.createServer((client) => {
    counts.accepted++;
    client.on("error", () => {});
    if (mode === "refuse") {
      counts.refused++;
      client.resetAndDestroy();
      return;
    }
    const link: Link = { client, frozen: mode === "freeze", silent: mode === "black-hole", toUpstream: [], toClient: [], upstreamClosed: false };
    links.add(link);
    // Bytes are always read, so a client that gives up is seen closing even on a frozen path.
    client.on("data", (d: Buffer) => {
      if (link.silent) return;
      if (link.frozen || !link.upstream) link.toUpstream.push(d);
      else link.upstream.write(d);
    });
    client.on("close", () => {
      links.delete(link);
      link.upstream?.destroy();
    });
    if (mode === "pass") connectUpstream(link);
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, listenHost, resolve));
  const { port } = server.address() as net.AddressInfo;

  const release = (link: Link) => {
    if (link.silent || !link.frozen) return;
    link.frozen = false;
    if (!link.upstream) return connectUpstream(link);
    for (const d of link.toUpstream.splice(0)) link.upstream.write(d);
    for (const d of link.toClient.splice(0)) link.client.write(d);
    if (link.upstreamClosed) link.client.end();
  };

  return {
    host: listenHost,
    port,
    get mode() {
      return mode;
    },
    url(url: string) {
      const u = new URL(url);
      u.hostname = listenHost;
      u.port = String(port);
      return u.toString();
    },
    pass: () => void (mode = "pass"),
    refuse: () => void (mode = "refuse"),
    blackHole: () => void (mode = "black-hole"),
    freeze() {
      mode = "freeze";
      for (const link of links) if (!link.silent) link.frozen = true;
    },
    restore() {
      mode = "pass";
      for (const link of links) release(link);
    },
    dropAll() {
      for (const link of links) {
        link.client.resetAndDestroy();
        link.upstream?.resetAndDestroy();
      }
    },
    stats: () => ({ ...counts, open: links.size }),
    async close() {
      for (const link of links) {
        link.client.destroy();
        link.upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
