/**
 * Structured JSON logs, one line per event, with stable dotted event names (`job.run.failed`)
 * and a scope (`job`, `runId`, `messageId`, `retried`) carried by child loggers.
 */
export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level | "silent", number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
  child(scope: Record<string, unknown>): Logger;
}

export type Sink = (line: string, level: Level) => void;

const stdSink: Sink = (line, level) => (level === "error" || level === "warn" ? process.stderr : process.stdout).write(line + "\n");

export type Format = "json" | "pretty";

export function createLogger(level: Level | "silent" = "info", scope: Record<string, unknown> = {}, sink: Sink = stdSink, format: Format = "json"): Logger {
  const emit = (lvl: Level) => (event: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const record = { time: new Date().toISOString(), level: lvl, event, ...scope, ...fields };
    if (format === "json") return sink(toJson(record), lvl);
    const line = prettyLine(record);
    if (line !== undefined) sink(line, lvl);
  };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (more) => createLogger(level, { ...scope, ...more }, sink, format),
  };
}

const WIDTH = 160;
const clip = (s: string) => (s.length > WIDTH ? `${s.slice(0, WIDTH - 3)}...` : s);
const short = (v: unknown) => (typeof v === "object" && v !== null ? toJson(v) : String(v));

/**
 * A log call never throws, whatever its fields hold: JSON.stringify refuses a cycle (an error
 * whose cause points back at it, a driver's object holding its connection) and a bigint (a count
 * from the database), and a throw here would turn a finished run into a 500. Those are written as
 * text instead; the common case pays for one JSON.stringify, as before.
 */
export function toJson(value: object): string {
  try {
    return JSON.stringify(value);
  } catch {
    const ancestors: object[] = [];
    try {
      return JSON.stringify(value, function (this: object, _key, v: unknown) {
        if (typeof v === "bigint") return v.toString();
        if (typeof v !== "object" || v === null) return v;
        // `this` is the object holding v: whatever is not an ancestor of it is done with.
        while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
        if (ancestors.includes(v)) return "[Circular]";
        ancestors.push(v);
        return v;
      });
    } catch (err) {
      return JSON.stringify({ unserialisable: String((err as Error)?.message ?? err) });
    }
  }
}

/**
 * A terminal's view: one short line per run ("12:03:00 heartbeat succeeded in 202 ms: ok true"),
 * warnings and errors in a line each; a run's start says nothing its end will not.
 */
export function prettyLine(r: Record<string, unknown> & { time: string; level: Level; event: string }): string | undefined {
  const clock = r.time.slice(11, 19);
  const job = typeof r.job === "string" ? r.job : undefined;
  if (r.event === "job.run.started") return undefined;
  const outcome = /^job\.run\.(succeeded|failed|skipped|duplicate|timed_out)$/.exec(r.event)?.[1];
  if (job && outcome) {
    const took = typeof r.durationMs === "number" ? ` in ${r.durationMs} ms` : "";
    const how = r.trigger && r.trigger !== "qstash" ? ` (${short(r.trigger)})` : r.retried ? ` (retry ${short(r.retried)})` : "";
    const stats = r.stats && typeof r.stats === "object" ? Object.entries(r.stats).map(([k, v]) => `${k} ${short(v)}`).join(", ") : "";
    const error = r.error && typeof r.error === "object" ? `${short((r.error as { name?: unknown }).name)}: ${short((r.error as { message?: unknown }).message)}` : "";
    return clip(`${clock} ${job} ${outcome.replace("_", " ")}${took}${how}${stats ? `: ${stats}` : ""}${error ? `: ${error}` : ""}`);
  }
  const { time: _t, level, event, ...rest } = r;
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${short(v)}`).join(" ");
  return clip(`${clock} ${level === "info" ? "" : `${level} `}${event}${fields ? ` ${fields}` : ""}`);
}
