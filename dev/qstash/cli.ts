import { parseArgs } from "node:util";
import { parseDuration } from "../../lib/time/duration";
import { QSTASH_DEV_DEFAULTS, realClock, scaledClock, startQStashServer } from "./server";

const USAGE = `usage: tsx dev/qstash/cli.ts [--port 8080] [--host 127.0.0.1] [--state .data/qstash.json | --memory]
                              [--token <token>] [--time-scale <n>] [--faulty-zones] [--max-delay <duration>] [--quiet]
  --faulty-zones  read CRON_TZ= schedules as a faulty transport would: skip the missing hour,
                  fire twice in the repeated one
  --max-delay     refuse publishes due further out than this, as QStash does past the plan's
                  maximum delay (free: 7d, pay as you go: 1y); default: no limit`;

/**
 * The local QStash. Point the app at it with QSTASH_URL=<printed url> and the printed token and
 * signing keys (the same defaults as Upstash's own dev server).
 */
async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: String(QSTASH_DEV_DEFAULTS.port) },
      host: { type: "string", default: QSTASH_DEV_DEFAULTS.host },
      state: { type: "string", default: ".data/qstash.json" },
      memory: { type: "boolean", default: false },
      token: { type: "string", default: QSTASH_DEV_DEFAULTS.token },
      "time-scale": { type: "string", default: "1" },
      quiet: { type: "boolean", short: "q", default: false },
      "faulty-zones": { type: "boolean", default: false },
      "max-delay": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return void console.log(USAGE);

  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) throw new Error(`--port must be a port number, got "${values.port}"`);
  const scale = Number(values["time-scale"]);
  if (!(scale > 0)) throw new Error(`--time-scale must be a positive number, got "${values["time-scale"]}"`);
  const maxDelay = values["max-delay"];
  const maxDelayMs = maxDelay === undefined ? undefined : parseDuration(maxDelay, { years: true });
  if (maxDelay !== undefined && !(maxDelayMs! > 0)) throw new Error(`--max-delay must be a duration such as 7d, 1y or 30m, got "${maxDelay}"`);

  let server;
  try {
    server = await startQStashServer({
      host: values.host,
      port,
      token: values.token,
      clock: scale === 1 ? realClock() : scaledClock(scale),
      // The app checks a token's nbf/exp against the wall clock, whatever the schedule's time.
      signingNow: Date.now,
      ...(!values.memory && { stateFile: values.state }),
      log: values.quiet ? () => {} : (line) => console.log(line),
      faultyZones: values["faulty-zones"],
      maxDelayMs,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") throw new Error(`port ${port} is in use: stop the other process or pass --port`);
    throw err;
  }
  console.log(
    `QStash (local) at ${server.url} QSTASH_URL=${server.url} QSTASH_TOKEN=${server.token} ` +
      `QSTASH_CURRENT_SIGNING_KEY=${server.currentSigningKey} QSTASH_NEXT_SIGNING_KEY=${server.nextSigningKey}` +
      (values.memory ? " (in memory)" : ` (state: ${values.state})`) +
      (scale === 1 ? "" : ` (time x${scale})`) +
      (values["faulty-zones"] ? " (faulty CRON_TZ handling)" : "") +
      (maxDelay === undefined ? "" : ` (max delay ${maxDelay})`),
  );

  const stop = () => void server.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err: Error) => {
  console.error(`qstash: ${err.message}`);
  process.exit(1);
});
