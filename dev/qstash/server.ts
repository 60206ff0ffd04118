import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { realClock, type Clock } from "./clock";
import type { Ctx, Req } from "./context";
import { Engine } from "./engine";
import { callerIp, checkAuth, headerMap, HttpError, readBody, sendEmpty, sendJson } from "./http";
import { route } from "./routes/table";
import { randomId } from "./ids";
import { Scheduler } from "./scheduler";
import { Store } from "./store";
import type { State } from "./types";

export { ManualClock, manualClock, realClock, scaledClock, type Clock, type TimerHandle } from "./clock";

/**
 * The published defaults of Upstash's own local server (`@upstash/qstash-cli dev`), so that
 * local setups made for it work unchanged. Public test values, never production secrets.
 */
export const QSTASH_DEV_DEFAULTS = {
  host: "127.0.0.1",
  port: 8080,
  token: "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=",
  currentSigningKey: "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r",
  nextSigningKey: "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs",
} as const;

export interface QStashServerOptions {
  host?: string;
  /** 0 picks a free port. Default 8080. */
  port?: number;
  token?: string;
  currentSigningKey?: string;
  nextSigningKey?: string;
  /** Default: the wall clock. Pass a `ManualClock` to drive time from a test. */
  clock?: Clock;
  /**
   * The time stamped into signatures. Default: the server clock, so that a receiver on the same
   * (manual) clock sees consistent tokens. Pass `Date.now` when the clock runs ahead of real time
   * but the receiver checks nbf/exp against the wall clock (e.g. a time-scaled dev server).
   */
  signingNow?: () => number;
  /** JSON file that keeps schedules, pending messages and the DLQ across restarts. Default: memory only. */
  stateFile?: string;
  /** One line per delivery attempt and per request error. Default: silent. */
  log?: (line: string) => void;
  /**
   * Accept requests and keep time, but deliver nothing until `releaseDeliveries()`: a restarted
   * `pnpm dev` holds the persisted schedules' ticks until the app answers, instead of sending them
   * to a port nobody listens on yet (dead letters) or to a route still compiling (timeouts).
   */
  holdDeliveries?: boolean;
  /**
   * Read `CRON_TZ=` schedules as a faulty transport would: skip a time in the hour that does not
   * exist, fire twice in the hour that happens twice. For proving that the app's zoned jobs no
   * longer depend on how the transport treats those nights (`qstash:schedule` sends UTC crons).
   */
  faultyZones?: boolean;
  /**
   * Refuse a publish due further out than this, as QStash refuses one past the plan's maximum
   * delay (free 7 days, pay as you go 1 year). Default: no limit.
   */
  maxDelayMs?: number;
}

export interface QStashServer {
  url: string;
  port: number;
  token: string;
  readonly currentSigningKey: string;
  readonly nextSigningKey: string;
  clock: Clock;
  /** The live state (read it, do not change it). */
  readonly state: State;
  /** Starts the deliveries held by `holdDeliveries`; a no-op otherwise. */
  releaseDeliveries(): void;
  /** Key rotation as on QStash: next becomes current, a new next is made (or the one given). */
  rotateSigningKeys(next?: string): { current: string; next: string };
  close(): Promise<void>;
}

/** Starts a QStash-compatible server; resolves once it listens. */
export async function startQStashServer(opts: QStashServerOptions = {}): Promise<QStashServer> {
  const host = opts.host ?? QSTASH_DEV_DEFAULTS.host;
  const token = opts.token ?? QSTASH_DEV_DEFAULTS.token;
  const clock = opts.clock ?? realClock();
  const log = opts.log ?? (() => {});
  const keyring = { current: opts.currentSigningKey ?? QSTASH_DEV_DEFAULTS.currentSigningKey, next: opts.nextSigningKey ?? QSTASH_DEV_DEFAULTS.nextSigningKey };
  const store = Store.open(opts.stateFile);
  const engine = new Engine({ store, clock, signingKey: () => keyring.current, signingNow: opts.signingNow ?? (() => clock.now()), log });
  const scheduler = new Scheduler({ store, clock, engine, faultyZones: opts.faultyZones });
  const ctx: Ctx = { store, engine, scheduler, clock, keys: keyring, limits: { maxDelayMs: opts.maxDelayMs } };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    const path = q === -1 ? raw : raw.slice(0, q);
    const fullQuery = q === -1 ? "" : raw.slice(q + 1);
    const query = new URLSearchParams(fullQuery);
    checkAuth(req, query, token);
    const method = (req.method ?? "GET").toUpperCase();
    const { handler, params } = route(method, path);
    const r: Req = {
      method,
      path,
      rawQuery: fullQuery
        .split("&")
        .filter((p) => p !== "" && !p.startsWith("qstash_token="))
        .join("&"),
      query,
      params,
      headers: headerMap(req),
      body: () => readBody(req),
      callerIp: callerIp(req),
    };
    const reply = await handler(ctx, r);
    // On disk before the caller learns the message id: a crash right after loses nothing accepted.
    store.flush();
    if (reply.body === undefined) sendEmpty(res, reply.status);
    else sendJson(res, reply.status, reply.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (status >= 500) log(`qstash: ${req.method} ${req.url} failed: ${message}`);
      if (!res.headersSent) sendJson(res, status, { error: message });
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? QSTASH_DEV_DEFAULTS.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  if (opts.holdDeliveries) engine.hold();
  engine.start();
  scheduler.start();

  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    token,
    get currentSigningKey() {
      return keyring.current;
    },
    get nextSigningKey() {
      return keyring.next;
    },
    clock,
    state: store.state,
    releaseDeliveries: () => engine.release(),
    rotateSigningKeys(next = randomId("sig_", 28)) {
      keyring.current = keyring.next;
      keyring.next = next;
      return { ...keyring };
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        scheduler.stop();
        engine.stop();
        store.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
