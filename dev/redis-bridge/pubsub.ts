import type { IncomingMessage, ServerResponse } from "node:http";
import type { Executor } from "./redis";

/**
 * Pub/sub over REST as Upstash serves it to @upstash/redis: `POST /subscribe/<channel>` (and
 * `/psubscribe/<pattern>`) answers a server-sent-events stream that stays open, one line per event:
 *   data: subscribe,<channel>,<count>
 *   data: message,<channel>,<message>
 *   data: pmessage,<pattern>,<channel>,<message>
 * Each stream holds a Redis connection of its own, closed when the client aborts (the SDK's
 * `unsubscribe()`) or the bridge stops. Messages go out as text even when the client asked for
 * base64 answers: the SDK does not decode stream lines.
 */
export class PubSub {
  readonly #open = new Set<ServerResponse>();

  constructor(private readonly executor: Executor) {}

  /** `names` are URL-decoded path segments after /subscribe or /psubscribe. */
  async stream(req: IncomingMessage, res: ServerResponse, pattern: boolean, names: string[], headers: Record<string, string>): Promise<void> {
    const conn = await this.executor.subscriber();
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.#open.delete(res);
      conn.disconnect();
      if (!res.writableEnded) res.end();
    };
    req.on("close", close);
    res.on("close", close);
    const line = (fields: (string | number)[]) => void (closed || res.write(`data: ${fields.join(",")}\n\n`));
    conn.on("messageBuffer", (channel: Buffer, message: Buffer) => line(["message", channel.toString(), message.toString()]));
    conn.on("pmessageBuffer", (pat: Buffer, channel: Buffer, message: Buffer) => line(["pmessage", pat.toString(), channel.toString(), message.toString()]));
    conn.on("end", close);

    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", ...headers });
    // Headers out now: the client's fetch resolves before the first message arrives.
    res.flushHeaders();
    this.#open.add(res);
    for (const name of names) {
      const count = (await (pattern ? conn.psubscribe(name) : conn.subscribe(name))) as number;
      line([pattern ? "psubscribe" : "subscribe", name, count]);
    }
  }

  /** Ends every open stream (the bridge is stopping). */
  closeAll(): void {
    for (const res of this.#open) res.end();
    this.#open.clear();
  }
}
