import net from "node:net";

/**
 * Sends bytes as they are (a method, header or path that fetch and node:http refuse to send) and
 * returns the status of the answer, or 0 when the server closed without one.
 */
export function rawRequest(port: number, head: string, body: Buffer = Buffer.alloc(0), timeoutMs = 15_000): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let got = "";
    const finish = () => {
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(got)?.[1] ?? 0), ms: Date.now() - started });
    };
    socket.setTimeout(timeoutMs, finish);
    socket.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      if (/^HTTP\/1\.[01] \d{3}/.test(got)) finish();
    });
    // A server may answer (401, 413) and close before a huge body is written: the write then fails
    // (EPIPE, ECONNRESET) but the answer may already be here, so only the close decides.
    socket.on("error", () => {});
    socket.on("close", finish);
    // Written in slices, stopping once an answer is in: a server that refuses early and closes
    // would otherwise reset the connection under an unread answer.
    void (async () => {
      socket.write(Buffer.from(head, "latin1"));
      for (let at = 0; at < body.length && !got && !socket.destroyed; at += 64 * 1024) {
        if (!socket.write(body.subarray(at, at + 64 * 1024))) await new Promise((r) => socket.once("drain", r).once("close", r));
      }
    })();
  });
}
