/** Redis replies (as ioredis hands them over in buffer mode) to the JSON Upstash answers with. */

export type Reply = Buffer | string | number | null | Error | Reply[];
export type Json = string | number | null | Json[];
export type Item = { result: Json } | { error: string };

const OK = Buffer.from("OK");

/**
 * The `result` of one command. With `Upstash-Encoding: base64` every string is base64, at any
 * depth (HGETALL, SCAN, ZRANGE WITHSCORES...), except a top-level OK: the official client leaves
 * a top-level "OK" undecoded but base64-decodes every string inside an array, so OK is only plain
 * at the top.
 */
export function encodeResult(reply: Reply, base64: boolean): Json {
  if (base64 && Buffer.isBuffer(reply) && reply.equals(OK)) return "OK";
  return encodeValue(reply, base64);
}

function encodeValue(reply: Reply, base64: boolean): Json {
  if (reply === null || typeof reply === "number") return reply;
  if (Array.isArray(reply)) return reply.map((r) => encodeValue(r, base64));
  // An error nested in an array (a Lua table holding an error reply) has no JSON form of its own.
  const bytes = reply instanceof Error ? Buffer.from(reply.message) : Buffer.isBuffer(reply) ? reply : Buffer.from(reply);
  return base64 ? bytes.toString("base64") : bytes.toString("utf8");
}

/** A Redis error reply, as opposed to a failure of the bridge or of its connection. */
export function isReplyError(err: unknown): err is Error {
  return err instanceof Error && err.name === "ReplyError";
}

export function errorMessage(err: unknown): string {
  if (isReplyError(err)) return err.message;
  return `ERR the local Upstash bridge could not reach Redis: ${err instanceof Error ? err.message : String(err)}`;
}

/** Never rejects: a command's outcome as an Upstash pipeline item. */
export function settle(reply: Promise<Reply>, base64: boolean): Promise<Item> {
  return reply.then(
    (r) => ({ result: encodeResult(r, base64) }),
    (err: unknown) => ({ error: errorMessage(err) }),
  );
}
