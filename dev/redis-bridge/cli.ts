import { parseArgs } from "node:util";
import { redactUrl } from "./redis";
import { startRedisBridge } from "./server";

/**
 * `tsx dev/redis-bridge/cli.ts [--port 8079] [--redis redis://127.0.0.1:6379] [--token local-redis-token]`
 * Point the app at it with UPSTASH_REDIS_REST_URL=<printed url> and UPSTASH_REDIS_REST_TOKEN=<token>.
 */
async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "8079" },
      host: { type: "string", default: "127.0.0.1" },
      redis: { type: "string", default: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" },
      token: { type: "string", default: "local-redis-token" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log("usage: redis-bridge [--port 8079] [--host 127.0.0.1] [--redis redis://127.0.0.1:6379] [--token local-redis-token]");
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, got "${values.port}"`);

  const bridge = await startRedisBridge({ redisUrl: values.redis, token: values.token, host: values.host, port });
  console.log(`Upstash Redis bridge at ${bridge.url} -> ${redactUrl(values.redis)}`);
  console.log(`  UPSTASH_REDIS_REST_URL=${bridge.url}`);
  console.log(`  UPSTASH_REDIS_REST_TOKEN=${values.token}`);

  const stop = () => void bridge.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err: Error) => {
  console.error(`redis-bridge: ${err.message}`);
  process.exit(1);
});
