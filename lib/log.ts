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

export function createLogger(level: Level | "silent" = "info", scope: Record<string, unknown> = {}, sink: Sink = stdSink): Logger {
  const emit = (lvl: Level) => (event: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[lvl] < ORDER[level]) return;
    sink(JSON.stringify({ time: new Date().toISOString(), level: lvl, event, ...scope, ...fields }), lvl);
  };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (more) => createLogger(level, { ...scope, ...more }, sink),
  };
}
