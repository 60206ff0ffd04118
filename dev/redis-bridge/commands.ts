/** What the bridge accepts as a command, and what it refuses to run on shared connections. */

export type Argv = string[];

/**
 * A JSON command as @upstash/redis sends it (`["set", "k", 1, "ex", 10]`) as Redis arguments,
 * or the reason it is not one. The client turns objects into JSON strings before sending, so
 * anything other than strings, numbers and booleans is a malformed request.
 */
export function toArgv(value: unknown): Argv | string {
  if (!Array.isArray(value) || value.length === 0) {
    return 'ERR a command must be a non-empty JSON array, e.g. ["get","key"]';
  }
  const argv: Argv = [];
  for (const arg of value as unknown[]) {
    if (typeof arg === "string") argv.push(arg);
    else if (typeof arg === "number" || typeof arg === "boolean") argv.push(String(arg));
    else return `ERR command arguments must be strings, numbers or booleans, got ${arg === null ? "null" : typeof arg}`;
  }
  return argv;
}

const CONNECTION_STATE = "it changes the state of a connection every request shares";
const REFUSED: Record<string, string> = {
  select: CONNECTION_STATE,
  auth: CONNECTION_STATE,
  hello: CONNECTION_STATE,
  reset: CONNECTION_STATE,
  quit: CONNECTION_STATE,
  readonly: CONNECTION_STATE,
  readwrite: CONNECTION_STATE,
  asking: CONNECTION_STATE,
  subscribe: "a subscription is a stream: POST /subscribe/<channel> (redis.subscribe() in @upstash/redis)",
  psubscribe: "a subscription is a stream: POST /psubscribe/<pattern> (redis.psubscribe() in @upstash/redis)",
  ssubscribe: "sharded pub/sub is not served over REST",
  unsubscribe: "end the /subscribe stream instead (subscriber.unsubscribe() in @upstash/redis)",
  punsubscribe: "end the /psubscribe stream instead (subscriber.unsubscribe() in @upstash/redis)",
  sunsubscribe: "sharded pub/sub is not served over REST",
  monitor: "it turns the connection into an endless stream",
  sync: "it turns the connection into a replication stream",
  psync: "it turns the connection into a replication stream",
  replconf: "it is for replication links",
  multi: "transactions go to POST /multi-exec (redis.multi() in @upstash/redis)",
  exec: "transactions go to POST /multi-exec (redis.multi() in @upstash/redis)",
  discard: "transactions go to POST /multi-exec (redis.multi() in @upstash/redis)",
  watch: "WATCH needs a connection of its own across requests, which a REST call does not have",
  unwatch: "WATCH needs a connection of its own across requests, which a REST call does not have",
  shutdown: "it stops the Redis server other tests and tools share",
  replicaof: "it changes the role of the shared Redis server",
  slaveof: "it changes the role of the shared Redis server",
  failover: "it changes the role of the shared Redis server",
  debug: "it can stall or crash the shared Redis server",
};
// CLIENT subcommands that only read; the rest (SETNAME, REPLY, TRACKING, PAUSE, KILL...) change or stall connections.
const CLIENT_READS = new Set(["id", "info", "list", "getname"]);

/**
 * Why the bridge will not run this command, or undefined when it will. Inside MULTI blocking
 * commands return at once, so a transaction passes `blockingMatters = false`.
 */
export function refusal(argv: Argv, blockingMatters = true): string | undefined {
  const name = (argv[0] ?? "").toLowerCase();
  let reason = REFUSED[name];
  if (name === "client" && !CLIENT_READS.has((argv[1] ?? "").toLowerCase())) reason = CONNECTION_STATE;
  if (!reason && blockingMatters) {
    const timeout = blockingTimeoutMs(argv);
    if (timeout === 0) reason = "with a timeout of 0 it would block forever; pass a timeout";
  }
  if (!reason) return undefined;
  const shown = name === "client" ? `CLIENT ${(argv[1] ?? "").toUpperCase()}`.trim() : name.toUpperCase();
  return `ERR ${shown} is not supported by the local Upstash bridge: ${reason}`;
}

const LAST_ARG_SECONDS = new Set(["blpop", "brpop", "brpoplpush", "blmove", "bzpopmin", "bzpopmax"]);
const FIRST_ARG_SECONDS = new Set(["blmpop", "bzmpop"]);
const LAST_ARG_MS = new Set(["wait", "waitaof"]);

/**
 * How long a command may block its connection, in ms (0 = forever), or undefined when it never
 * blocks. An unparsable timeout counts as non-blocking: Redis rejects it at once with its own error.
 */
export function blockingTimeoutMs(argv: Argv): number | undefined {
  const name = (argv[0] ?? "").toLowerCase();
  let raw: string | undefined;
  let scale = 1000;
  if (LAST_ARG_SECONDS.has(name)) raw = argv.length > 2 ? argv[argv.length - 1] : undefined;
  else if (FIRST_ARG_SECONDS.has(name)) raw = argv[1];
  else if (LAST_ARG_MS.has(name)) [raw, scale] = [argv[argv.length - 1], 1];
  else if (name === "xread" || name === "xreadgroup") {
    const at = argv.findIndex((a, i) => i > 0 && a.toLowerCase() === "block");
    [raw, scale] = [at > 0 ? argv[at + 1] : undefined, 1];
  }
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value * scale : undefined;
}
