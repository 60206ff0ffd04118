import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { refusal, toArgv, type Argv } from "./commands";
import { versionRefusal } from "./compat";
import { encodeResult, errorMessage, isReplyError } from "./encode";
import { PubSub } from "./pubsub";
import { connectRedis, Executor, serverVersion } from "./redis";
import { SyncTokens } from "./sync-token";

/**
 * A local stand-in for Upstash Redis's REST API: the official @upstash/redis client, pointed at
 * this URL, runs its commands on a real Redis. Routes: POST / (one command), POST /pipeline and
 * POST /multi-exec (arrays of commands), POST /subscribe/<channel> and /psubscribe/<pattern>
 * (event streams), POST /publish/<channel>[/<message>], with `Authorization: Bearer <token>`.
 * Every answer carries `Upstash-Sync-Token` (see sync-token.ts).
 */
export interface RedisBridgeOptions {
  redisUrl: string;
  token: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
}

export interface RedisBridge {
  url: string;
  /** The Redis server's version (INFO server), e.g. "7.0.15": commands newer than it are refused by name. */
  redisVersion: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startRedisBridge(opts: RedisBridgeOptions): Promise<RedisBridge> {
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? 0;
  const shared = await connectRedis(opts.redisUrl);
  const tx = await connectRedis(opts.redisUrl).catch(async (err: Error) => {
    shared.disconnect();
    throw err;
  });
  const executor = new Executor(shared, tx, await serverVersion(shared));
  const tokenDigest = digest(opts.token);
  const tokens = new SyncTokens();
  const pubsub = new PubSub(executor);
  // Each answer gets a token above every earlier one: it is written after the request's commands ran.
  const respond = (res: ServerResponse, status: number, body: unknown) => send(res, status, body, tokens.next());

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return respond(res, err.status, { error: err.message });
      respond(res, 500, { error: errorMessage(err) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://bridge");
    const route = url.pathname.replace(/\/+$/, "") || "/";
    const stream = /^\/(p?subscribe|publish)\/(.+)$/.exec(route);
    if (!stream && !["/", "/pipeline", "/multi-exec"].includes(route)) {
      throw new HttpError(404, `ERR ${req.method} ${url.pathname} is not served by the local Upstash bridge (it serves POST /, /pipeline, /multi-exec, /subscribe, /psubscribe and /publish)`);
    }
    if (req.method !== "POST" && !(stream && req.method === "GET")) throw new HttpError(405, `ERR use POST: the local Upstash bridge takes commands as a JSON body`);
    if (!authorized(req, url)) throw new HttpError(401, "Unauthorized");
    tokens.seen(req.headers["upstash-sync-token"]);
    if (stream) return pubsubRoute(req, res, stream[1]!, stream[2]!.split("/").map(decodeURIComponent));
    const body = parseJson(await readBody(req));
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";

    if (route === "/") {
      const argv = checked(toArgv(body));
      const refused = refusal(argv);
      if (refused) throw new HttpError(400, refused);
      try {
        return respond(res, 200, { result: encodeResult(await executor.one(argv), base64) });
      } catch (err) {
        return respond(res, isReplyError(err) ? 400 : 500, { error: errorMessage(err) });
      }
    }

    if (!Array.isArray(body) || body.length === 0) {
      throw new HttpError(400, 'ERR the body must be a non-empty JSON array of commands, e.g. [["set","k","v"],["get","k"]]');
    }
    const commands = (body as unknown[]).map((c, i) => checked(toArgv(c), i));
    if (route === "/pipeline") {
      // A refused command fails alone, like any other failing command in a pipeline.
      const items = await executor.pipeline(commands.map((argv) => refusal(argv) ?? argv), base64);
      return respond(res, 200, items);
    }
    commands.forEach((argv, i) => {
      const refused = refusal(argv, false) ?? versionRefusal(argv, executor.redisVersion);
      if (refused) throw new HttpError(400, `${refused} (command ${i + 1} of the transaction, which was not run)`);
    });
    const outcome = await executor.transaction(commands, base64);
    return respond(res, Array.isArray(outcome) ? 200 : 400, outcome);
  }

  /** `/subscribe/<ch>...`, `/psubscribe/<pattern>...` (streams), `/publish/<ch>[/<message>]` (message in the path or the body). */
  async function pubsubRoute(req: IncomingMessage, res: ServerResponse, kind: string, parts: string[]) {
    if (kind !== "publish") return pubsub.stream(req, res, kind === "psubscribe", parts, { "upstash-sync-token": tokens.next() });
    const [channel = "", ...inPath] = parts;
    const message = inPath.length > 0 ? inPath.join("/") : await readBody(req);
    const result = await executor.one(["publish", channel, message]);
    return respond(res, 200, { result: encodeResult(result, false) });
  }

  function authorized(req: IncomingMessage, url: URL): boolean {
    const header = req.headers.authorization ?? "";
    const given = header.startsWith("Bearer ") ? header.slice(7) : (url.searchParams.get("_token") ?? "");
    return given !== "" && timingSafeEqual(digest(given), tokenDigest);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  }).catch(async (err: NodeJS.ErrnoException) => {
    await executor.close();
    if (err.code !== "EADDRINUSE") throw err;
    throw new Error(`port ${port} on ${host} is already in use: stop the other process or pick another port (--port)`);
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: `http://${shownHost}:${address.port}`,
    redisVersion: executor.redisVersion,
    async close() {
      pubsub.closeAll();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // The client keeps connections alive; without this close() waits for them to idle out.
      server.closeAllConnections();
      await executor.close();
      await closed;
    },
  };
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

function checked(argv: Argv | string, index?: number): Argv {
  if (typeof argv !== "string") return argv;
  throw new HttpError(400, index === undefined ? argv : `${argv} (command ${index + 1})`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "ERR failed to parse the request body as JSON");
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `ERR the request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, body: unknown, syncToken: string) {
  if (res.headersSent) return void res.end();
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "upstash-sync-token": syncToken });
  res.end(text);
}
