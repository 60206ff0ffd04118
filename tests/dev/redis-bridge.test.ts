import { createHash, randomUUID } from "node:crypto";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { startRedisBridge, type RedisBridge } from "../../dev/redis-bridge/server";

// The official client against the bridge on the real Redis other tests share: every key lives
// under a per-test prefix and only those keys are deleted afterwards.
const TOKEN = "bridge-test-token";
let bridge: RedisBridge;
let raw: IORedis;
const prefixes: string[] = [];

beforeAll(async () => {
  bridge = await startRedisBridge({ redisUrl: inject("redisUrl"), token: TOKEN, port: 0 });
  raw = new IORedis(inject("redisUrl"));
});
afterEach(async () => {
  for (const p of prefixes.splice(0)) {
    let cursor = "0";
    do {
      const [next, keys] = await raw.scan(cursor, "MATCH", `${p}*`, "COUNT", 1000);
      if (keys.length) await raw.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  }
});
afterAll(async () => {
  await bridge?.close();
  raw?.disconnect();
});

function keys() {
  const prefix = `test:redis-bridge:${randomUUID()}:`;
  prefixes.push(prefix);
  return (name: string) => prefix + name;
}

type Encoding = "base64" | "plain";
function client(encoding: Encoding, extra: { automaticDeserialization?: boolean; enableAutoPipelining?: boolean } = {}) {
  return new Redis({
    url: bridge.url,
    token: TOKEN,
    responseEncoding: encoding === "base64" ? "base64" : false,
    enableTelemetry: false,
    ...extra,
  });
}

/** The wire, for what the client hides: status codes and the exact JSON. */
async function post(path: string, body: unknown, opts: { token?: string | null; base64?: boolean; raw?: string } = {}) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const token = opts.token === undefined ? TOKEN : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (opts.base64) headers["upstash-encoding"] = "base64";
  const res = await fetch(`${bridge.url}${path}`, { method: "POST", headers, body: opts.raw ?? JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as unknown };
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");

describe.each(["base64", "plain"] as const)("official @upstash/redis client, %s responses", (encoding) => {
  it("strings: set with ex/px/nx, get, incr, mset/mget", async () => {
    const k = keys();
    const redis = client(encoding);
    expect(await redis.set(k("ex"), "v1", { ex: 100 })).toBe("OK");
    expect(await redis.get(k("ex"))).toBe("v1");
    const ttl = await redis.ttl(k("ex"));
    expect(ttl).toBeGreaterThan(90);
    expect(ttl).toBeLessThanOrEqual(100);
    expect(await redis.set(k("px"), "v2", { px: 5000 })).toBe("OK");
    const pttl = await raw.pttl(k("px"));
    expect(pttl).toBeGreaterThan(4000);
    expect(pttl).toBeLessThanOrEqual(5000);
    expect(await redis.set(k("ex"), "other", { nx: true })).toBeNull();
    expect(await redis.get(k("ex"))).toBe("v1");
    expect(await redis.set(k("fresh"), "new", { nx: true })).toBe("OK");
    expect(await redis.incr(k("n"))).toBe(1);
    expect(await redis.incr(k("n"))).toBe(2);
    expect(await redis.incrby(k("n"), 40)).toBe(42);
    expect(await redis.mset({ [k("a")]: "alpha", [k("b")]: "beta" })).toBe("OK");
    expect(await redis.mget(k("a"), k("missing"), k("b"))).toEqual(["alpha", null, "beta"]);
    expect(await raw.get(k("a"))).toBe("alpha");
    // Auto-pipelining is on by default: those commands went out through POST /pipeline.
    expect(Reflect.get(redis, "pipelineCounter")).toBeGreaterThan(0);
  });

  it("hashes: hset, hget, hgetall, hincrby, hdel", async () => {
    const k = keys();
    const redis = client(encoding);
    expect(await redis.hset(k("h"), { name: "Ada", visits: 3, prefs: { theme: "dark" } })).toBe(3);
    expect(await redis.hget(k("h"), "name")).toBe("Ada");
    expect(await redis.hincrby(k("h"), "visits", 2)).toBe(5);
    expect(await redis.hgetall(k("h"))).toEqual({ name: "Ada", visits: 5, prefs: { theme: "dark" } });
    expect(await redis.hdel(k("h"), "name")).toBe(1);
    expect(await redis.hexists(k("h"), "name")).toBe(0);
    expect(await raw.hgetall(k("h"))).toEqual({ visits: "5", prefs: '{"theme":"dark"}' });
  });

  it("sets: sadd, smembers, sismember, srem", async () => {
    const k = keys();
    const redis = client(encoding);
    expect(await redis.sadd(k("s"), "red", "green", "blue")).toBe(3);
    expect(await redis.sadd(k("s"), "red")).toBe(0);
    expect(((await redis.smembers(k("s"))) as string[]).sort()).toEqual(["blue", "green", "red"]);
    expect(await redis.sismember(k("s"), "green")).toBe(1);
    expect(await redis.sismember(k("s"), "pink")).toBe(0);
    expect(await redis.srem(k("s"), "green")).toBe(1);
    expect(await redis.scard(k("s"))).toBe(2);
  });

  it("sorted sets: zadd, zrange with scores, zrangebyscore", async () => {
    const k = keys();
    const redis = client(encoding);
    expect(await redis.zadd(k("z"), { score: 3, member: "c" }, { score: 1.5, member: "a" }, { score: 2, member: "b" })).toBe(3);
    expect(await redis.zrange(k("z"), 0, -1)).toEqual(["a", "b", "c"]);
    expect(await redis.zrange(k("z"), 0, -1, { withScores: true })).toEqual(["a", 1.5, "b", 2, "c", 3]);
    expect(await redis.zrange(k("z"), 2, "+inf", { byScore: true })).toEqual(["b", "c"]);
    expect(await redis.exec(["zrangebyscore", k("z"), "(1.5", "3", "WITHSCORES"])).toEqual(["b", 2, "c", 3]);
    expect(await redis.zscore(k("z"), "a")).toBe(1.5);
    expect(await redis.zincrby(k("z"), 10, "a")).toBe(11.5);
  });

  it("expiry: expire, ttl, pexpire, persist", async () => {
    const k = keys();
    const redis = client(encoding);
    await redis.set(k("t"), "x");
    expect(await redis.ttl(k("t"))).toBe(-1);
    expect(await redis.expire(k("t"), 60)).toBe(1);
    const ttl = await redis.ttl(k("t"));
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await redis.pexpire(k("t"), 1500)).toBe(1);
    const pttl = await redis.pttl(k("t"));
    expect(pttl).toBeGreaterThan(1000);
    expect(pttl).toBeLessThanOrEqual(1500);
    expect(await redis.persist(k("t"))).toBe(1);
    expect(await redis.ttl(k("t"))).toBe(-1);
    expect(await redis.ttl(k("never-set"))).toBe(-2);
    expect(await redis.expire(k("never-set"), 10)).toBe(0);
  });

  it("scan with match and count walks every matching key", async () => {
    const k = keys();
    const redis = client(encoding);
    const wanted = Array.from({ length: 23 }, (_, i) => k(`match:${i}`));
    await redis.mset(Object.fromEntries([...wanted, k("skip:1"), k("skip:2")].map((key) => [key, "v"])));
    const found = new Set<string>();
    let cursor: string | number = "0";
    let rounds = 0;
    do {
      const [next, page]: [string | number, string[]] = await redis.scan(cursor, { match: k("match:*"), count: 100 });
      page.forEach((key) => found.add(key));
      cursor = next;
      rounds++;
    } while (String(cursor) !== "0" && rounds < 100_000);
    expect([...found].sort()).toEqual([...wanted].sort());
  });

  it("scripts: eval, scriptLoad, evalsha, and createScript's NOSCRIPT fallback", async () => {
    const k = keys();
    const redis = client(encoding);
    const echo = "return {KEYS[1], ARGV[1], tonumber(ARGV[2]) * 2, redis.call('SET', KEYS[1], ARGV[1])['ok']}";
    expect(await redis.eval(echo, [k("e")], ["héllo", 21])).toEqual([k("e"), "héllo", 42, "OK"]);
    expect(await raw.get(k("e"))).toBe("héllo");

    const counter = `-- ${k("script")}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`;
    const sha = await redis.scriptLoad(counter);
    expect(sha).toBe(createHash("sha1").update(counter).digest("hex"));
    expect(await redis.evalsha(sha, [k("c")], [5])).toBe(5);
    expect(await redis.evalsha(sha, [k("c")], [5])).toBe(10);

    // A script body no one has loaded: EVALSHA answers NOSCRIPT, the client falls back to EVAL.
    const fresh = redis.createScript<string>(`-- ${k("fresh")}\nreturn ARGV[1] .. '!'`);
    expect(await fresh.exec([], ["hi"])).toBe("hi!");
  });

  it("pipelines: results in order, a failing command fails alone", async () => {
    const k = keys();
    const redis = client(encoding);
    const results = await redis.pipeline().set(k("p"), 1).incr(k("p")).get(k("p")).hset(k("h"), { f: "v" }).hgetall(k("h")).exec();
    expect(results).toEqual(["OK", 2, 2, 1, { f: "v" }]);

    await redis.set(k("word"), "text");
    const kept = await redis.pipeline().set(k("q"), "a").incr(k("word")).get(k("q")).exec({ keepErrors: true });
    expect(kept).toEqual([
      { error: undefined, result: "OK" },
      { error: "ERR value is not an integer or out of range", result: undefined },
      { error: undefined, result: "a" },
    ]);
    await expect(redis.pipeline().get(k("q")).incr(k("word")).exec()).rejects.toThrow(
      "Command 2 [ incr ] failed: ERR value is not an integer or out of range",
    );
  });

  it("transactions: multi/exec applies every command, run-time errors stay per command", async () => {
    const k = keys();
    const redis = client(encoding);
    const results = await redis.multi().set(k("m"), 10).incrby(k("m"), 5).get(k("m")).sadd(k("s"), "x", "y").exec();
    expect(results).toEqual(["OK", 15, 15, 2]);
    expect(await raw.get(k("m"))).toBe("15");

    const kept = await redis.multi().set(k("t1"), "a").hget(k("t1"), "f").set(k("t2"), "b").exec({ keepErrors: true });
    expect(kept[0]).toEqual({ error: undefined, result: "OK" });
    expect(kept[1]?.error).toBe("WRONGTYPE Operation against a key holding the wrong kind of value");
    expect(kept[2]).toEqual({ error: undefined, result: "OK" });
    expect(await raw.mget(k("t1"), k("t2"))).toEqual(["a", "b"]);
  });

  it("errors: a wrong-type command throws Redis's message, through /pipeline and through POST /", async () => {
    const k = keys();
    await raw.hset(k("h"), "f", "v");
    await expect(client(encoding).incr(k("h"))).rejects.toThrow(
      "Command failed: WRONGTYPE Operation against a key holding the wrong kind of value",
    );
    await expect(client(encoding, { enableAutoPipelining: false }).incr(k("h"))).rejects.toThrow(
      `WRONGTYPE Operation against a key holding the wrong kind of value, command was: ["incr","${k("h")}"]`,
    );
    await expect(client(encoding).get(k("h"))).rejects.toThrow(/WRONGTYPE/);
  });

  it("a wrong token is refused", async () => {
    const redis = new Redis({ url: bridge.url, token: "not-the-token", responseEncoding: encoding === "base64" ? "base64" : false, enableTelemetry: false });
    await expect(redis.get("anything")).rejects.toThrow("Unauthorized");
    await expect(redis.set("anything", "x")).rejects.toThrow("Unauthorized");
  });

  it("JSON values round-trip: the client serializes objects and parses them back", async () => {
    const k = keys();
    const redis = client(encoding);
    const value = { id: 7, name: "Zoë", tags: ["a", "b"], nested: { ok: true, none: null, n: -1.25 } };
    await redis.set(k("json"), value);
    expect(await redis.get(k("json"))).toEqual(value);
    expect(await raw.get(k("json"))).toBe(JSON.stringify(value));
    await redis.lpush(k("list"), { n: 1 }, { n: 2 });
    expect(await redis.lrange(k("list"), 0, -1)).toEqual([{ n: 2 }, { n: 1 }]);
  });

  it("unicode and binary-looking strings come back byte for byte", async () => {
    const k = keys();
    const redis = client(encoding, { automaticDeserialization: false });
    const samples = [
      "héllo wörld",
      "emoji 🚀👩‍👩‍👧",
      "日本語のテキスト",
      "T0s=",
      "OK",
      "aGVsbG8gd29ybGQ=",
      "\u0000nul\u0001\u007f",
      "line\r\nbreak\ttab",
      "",
      "  ",
      "{not json",
      "12345678901234567890",
      "null",
    ];
    for (const [i, s] of samples.entries()) {
      await redis.set(k(`u${i}`), s);
      expect(await redis.get(k(`u${i}`))).toBe(s);
      expect(await raw.getBuffer(k(`u${i}`))).toEqual(Buffer.from(s, "utf8"));
    }
    expect(await redis.mget(...samples.map((_, i) => k(`u${i}`)))).toEqual(samples);
    await redis.hset(k("h"), { "ключ 🔑": "значение", "T0s=": "OK" });
    // Without automatic deserialization the client hands HGETALL back as Redis's flat array.
    expect(await redis.hgetall(k("h"))).toEqual(["ключ 🔑", "значение", "T0s=", "OK"]);
  });
});

describe("the wire, as Upstash answers it", () => {
  it("base64-encodes every string, nested ones included, and leaves numbers and nulls", async () => {
    const k = keys();
    await raw.hset(k("h"), "f1", "v1");
    await raw.zadd(k("z"), 1.5, "m1", 2, "m2");
    expect(await post("/", ["set", k("s"), "OK"], { base64: true })).toEqual({ status: 200, json: { result: "OK" } });
    expect(await post("/", ["get", k("s")], { base64: true })).toEqual({ status: 200, json: { result: "OK" } });
    expect(await post("/", ["get", k("missing")], { base64: true })).toEqual({ status: 200, json: { result: null } });
    expect(await post("/", ["hgetall", k("h")], { base64: true })).toEqual({ status: 200, json: { result: [b64("f1"), b64("v1")] } });
    expect(await post("/", ["zrange", k("z"), 0, -1, "WITHSCORES"], { base64: true })).toEqual({
      status: 200,
      json: { result: [b64("m1"), b64("1.5"), b64("m2"), b64("2")] },
    });
    expect(await post("/", ["scan", 0, "MATCH", k("h"), "COUNT", 1_000_000], { base64: true })).toEqual({
      status: 200,
      json: { result: [b64("0"), [b64(k("h"))]] },
    });
    expect(await post("/", ["eval", "return {1, 'OK', {2, false}}", 0], { base64: true })).toEqual({
      status: 200,
      json: { result: [1, b64("OK"), [2, null]] },
    });
    expect(await post("/", ["hgetall", k("h")])).toEqual({ status: 200, json: { result: ["f1", "v1"] } });
  });

  it("keeps bytes that are not UTF-8 exact in base64", async () => {
    const k = keys();
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x41, 0x0a]);
    await raw.set(k("bin"), bytes);
    expect(await post("/", ["get", k("bin")], { base64: true })).toEqual({ status: 200, json: { result: bytes.toString("base64") } });
  });

  it("answers 401 without the right token, 400 for bad JSON and bad commands, 404 elsewhere", async () => {
    expect(await post("/", ["ping"], { token: null })).toEqual({ status: 401, json: { error: "Unauthorized" } });
    expect(await post("/", ["ping"], { token: "nope" })).toEqual({ status: 401, json: { error: "Unauthorized" } });
    expect(await post(`/?_token=${TOKEN}`, ["ping"], { token: null })).toEqual({ status: 200, json: { result: "PONG" } });
    expect(await post("/", null, { raw: '["ping"' })).toEqual({ status: 400, json: { error: "ERR failed to parse the request body as JSON" } });
    expect((await post("/", { cmd: "ping" })).status).toBe(400);
    expect((await post("/", ["set", "k", null])).status).toBe(400);
    expect(await post("/pipeline", [])).toMatchObject({ status: 400 });
    expect(await post("/", ["nosuchcommand", "x"])).toEqual({
      status: 400,
      json: { error: "ERR unknown command 'nosuchcommand', with args beginning with: 'x' " },
    });
    expect((await post("/keys/news", [])).status).toBe(404);
  });

  it("a pipeline answers 200 with one result or error per command", async () => {
    const k = keys();
    expect(await post("/pipeline", [["set", k("a"), "valuex"], ["setex", k("b"), 13, "valuez"], ["incr", k("a")], ["zadd", k("z"), 11, "item1", 22, "item2"]])).toEqual({
      status: 200,
      json: [{ result: "OK" }, { result: "OK" }, { error: "ERR value is not an integer or out of range" }, { result: 2 }],
    });
  });

  it("a transaction Redis rejects while queueing is discarded whole", async () => {
    const k = keys();
    const { status, json } = await post("/multi-exec", [["set", k("a"), "1"], ["nosuchcommand"], ["set", k("b"), "2"]]);
    expect(status).toBe(400);
    expect((json as { error: string }).error).toMatch(/^EXECABORT Transaction discarded because of previous errors\..*command 2: ERR unknown command 'nosuchcommand'/);
    expect(await raw.exists(k("a"), k("b"))).toBe(0);
  });

  it("refuses commands that change connection state or would block forever", async () => {
    const k = keys();
    for (const cmd of [["select", 1], ["subscribe", "news"], ["monitor"], ["quit"], ["client", "setname", "x"], ["multi"], ["blpop", k("l"), 0]]) {
      const { status, json } = await post("/", cmd);
      expect(status).toBe(400);
      expect((json as { error: string }).error).toMatch(new RegExp(`^ERR ${String(cmd[0]).toUpperCase()}.* is not supported by the local Upstash bridge: `));
    }
    expect(await post("/pipeline", [["set", k("a"), "1"], ["select", 2], ["get", k("a")]])).toEqual({
      status: 200,
      json: [{ result: "OK" }, { error: expect.stringMatching(/^ERR SELECT is not supported/) }, { result: "1" }],
    });
    expect((await post("/multi-exec", [["set", k("a"), "2"], ["select", 2]])).status).toBe(400);
    expect(await raw.get(k("a"))).toBe("1");
    // The shared connection still answers on database 0.
    expect(await post("/", ["get", k("a")])).toEqual({ status: 200, json: { result: "1" } });
  });

  it("runs a blocking command with a timeout on its own connection, so it stalls no one", async () => {
    const k = keys();
    const started = Date.now();
    const waiting = post("/", ["blpop", k("queue"), 5]);
    await new Promise((r) => setTimeout(r, 200));
    expect(await post("/", ["rpush", k("queue"), "job-1"])).toEqual({ status: 200, json: { result: 1 } });
    expect(await waiting).toEqual({ status: 200, json: { result: [k("queue"), "job-1"] } });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(await post("/", ["blpop", k("empty"), 0.2])).toEqual({ status: 200, json: { result: null } });
  });
});

describe("start-up", () => {
  it("says how to fix an unreachable Redis", async () => {
    await expect(startRedisBridge({ redisUrl: "redis://:secret@127.0.0.1:1", token: "t" })).rejects.toThrow(
      /^Redis is not reachable at redis:\/\/:\*\*\*@127\.0\.0\.1:1: start redis-server or set REDIS_URL/,
    );
  });

  it("says when the port is taken", async () => {
    const port = Number(new URL(bridge.url).port);
    await expect(startRedisBridge({ redisUrl: inject("redisUrl"), token: "t", port })).rejects.toThrow(
      `port ${port} on 127.0.0.1 is already in use`,
    );
  });
});
