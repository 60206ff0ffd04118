import { Command, Redis } from "ioredis";
import { blockingTimeoutMs, type Argv } from "./commands";
import { upstashReading, versionRefusal } from "./compat";
import { errorMessage, settle, type Item, type Reply } from "./encode";

/** ioredis reshapes some replies (HGETALL into an object, bytes into strings); the bridge needs them as Redis sent them. */
class RawCommand extends Command {
  override transformReply(result: Buffer | Buffer[]): Buffer | Buffer[] {
    return result;
  }
}

export function send(conn: Redis, argv: Argv): Promise<Reply> {
  const [name = "", ...args] = argv;
  return conn.sendCommand(new RawCommand(name, args, { replyEncoding: null })) as Promise<Reply>;
}

/** The URL without its password, fit for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

/** One connection to Redis that has answered, or an error that says what to do. */
export async function connectRedis(url: string): Promise<Redis> {
  let ready = false;
  let lastError: Error | undefined;
  const conn = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 5_000,
    // Fail requests while Redis is away instead of queueing them behind a reconnect.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Resending unanswered commands after a reconnect would run an INCR (or half a MULTI) twice.
    autoResendUnfulfilledCommands: false,
    // Give up at once on the first connect (so start-up can report it); reconnect later on.
    retryStrategy: (times) => (ready ? Math.min(times * 200, 2_000) : null),
  });
  conn.on("error", (err: Error) => (lastError = err));
  try {
    await conn.connect();
    ready = true;
    return conn;
  } catch (err) {
    conn.disconnect();
    const cause = (lastError ?? (err as Error)).message;
    throw new Error(`Redis is not reachable at ${redactUrl(url)}: start redis-server or set REDIS_URL (${cause})`);
  }
}

/** The server's `redis_version` (INFO server), e.g. "7.0.15". */
export async function serverVersion(conn: Redis): Promise<string> {
  const info = String(await send(conn, ["info", "server"]));
  return /^redis_version:(\S+)/m.exec(info)?.[1] ?? "unknown";
}

/** An error reply of the bridge's own, shaped like Redis's so it is answered the same way. */
function replyError(message: string): Error {
  const err = new Error(message);
  err.name = "ReplyError";
  return err;
}

/** Runs commands the way Upstash's REST endpoints do, over a shared and a transaction connection. */
export class Executor {
  private readonly side = new Set<Redis>();

  constructor(
    private readonly shared: Redis,
    private readonly tx: Redis,
    readonly redisVersion: string,
  ) {}

  /** One command; rejects with the Redis error. */
  one(argv: Argv): Promise<Reply> {
    const timeout = blockingTimeoutMs(argv);
    return timeout ? this.blocking(argv) : this.run(argv);
  }

  /** A command on the shared connection, as Upstash would answer it. */
  private run(argv: Argv): Promise<Reply> {
    const tooNew = versionRefusal(argv, this.redisVersion);
    if (tooNew) return Promise.reject(replyError(tooNew));
    return upstashReading(argv, (a) => send(this.shared, a)) ?? send(this.shared, argv);
  }

  /** A connection of its own for a subscriber (pub/sub takes a connection over); the caller closes it. */
  async subscriber(): Promise<Redis> {
    const conn = this.shared.duplicate({ retryStrategy: () => null });
    conn.on("error", () => {});
    this.side.add(conn);
    conn.once("end", () => this.side.delete(conn));
    await conn.connect();
    return conn;
  }

  /**
   * A pipeline in order and not atomic, one outcome per command. Commands go out back to back on
   * the shared connection; a blocking one waits for those before it and holds back those after.
   */
  async pipeline(commands: (Argv | string)[], base64: boolean): Promise<Item[]> {
    const items: Item[] = [];
    let batch: Promise<Item>[] = [];
    for (const argv of commands) {
      if (typeof argv === "string") batch.push(Promise.resolve({ error: argv }));
      else if (blockingTimeoutMs(argv)) {
        items.push(...(await Promise.all(batch)));
        batch = [];
        items.push(await settle(this.blocking(argv), base64));
      } else batch.push(settle(this.run(argv), base64));
    }
    items.push(...(await Promise.all(batch)));
    return items;
  }

  /**
   * MULTI, the commands and EXEC are written in one tick to the transaction connection, so no
   * other request's commands can land between them. A command Redis rejects while queueing
   * aborts the whole transaction (EXECABORT), as in Redis; errors at run time are per command.
   */
  async transaction(commands: Argv[], base64: boolean): Promise<Item[] | { error: string }> {
    const sent = [send(this.tx, ["multi"]), ...commands.map((argv) => send(this.tx, argv)), send(this.tx, ["exec"])];
    const settled = await Promise.allSettled(sent);
    const exec = settled[settled.length - 1]!;
    if (exec.status === "rejected") {
      const queued = settled.slice(1, -1).findIndex((s) => s.status === "rejected");
      const why = queued >= 0 ? ` (command ${queued + 1}: ${errorMessage((settled[queued + 1] as PromiseRejectedResult).reason)})` : "";
      return { error: `${errorMessage(exec.reason)}${why}` };
    }
    const replies = exec.value;
    if (!Array.isArray(replies)) return { error: "ERR transaction was aborted" };
    return Promise.all(replies.map((r) => settle(r instanceof Error ? Promise.reject(r) : Promise.resolve(r), base64)));
  }

  /** A blocking command on a connection of its own, so it stalls no other request. */
  private async blocking(argv: Argv): Promise<Reply> {
    const conn = this.shared.duplicate({ retryStrategy: () => null });
    conn.on("error", () => {});
    this.side.add(conn);
    try {
      await conn.connect();
      return await send(conn, argv);
    } finally {
      this.side.delete(conn);
      conn.disconnect();
    }
  }

  async close(): Promise<void> {
    for (const conn of this.side) conn.disconnect();
    await Promise.allSettled([this.shared.quit(), this.tx.quit()]);
  }
}
