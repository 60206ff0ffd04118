import type { Level, Logger } from "../log";

/**
 * The log lines a run keeps in the ledger, beside what goes to stdout: every warn and error line,
 * and, when the run fails, its last lines too. They travel with the close the run makes anyway
 * (job_run_close's p_logs), so keeping them costs no round trip; a run that succeeds without a
 * warning keeps nothing. Bounded: at most MAX_LINES lines, each field list cut at FIELD_CHARS,
 * MAX_CHARS in all.
 */
export const KEPT = { MAX_LINES: 40, TAIL: 20, FIELD_CHARS: 600, MAX_CHARS: 16_000 };

export interface KeptLine {
  at: string;
  level: Level;
  event: string;
  fields?: string;
}

export interface KeptLines {
  log: Logger;
  /** What the close records: null when there is nothing to keep. */
  lines(failed: boolean): KeptLine[] | null;
}

export function keepLines(base: Logger): KeptLines {
  // Lines hold their fields as given and are written out only when the close keeps them: a run that
  // succeeds without a warning pays for no JSON at all.
  const flagged: Line[] = [];
  const tail: Line[] = [];
  let dropped = 0;
  let seq = 0;
  const add = (level: Level, event: string, fields: Record<string, unknown> | undefined) => {
    if (level === "debug") return;
    const line: Line = { seq: seq++, at: Date.now(), level, event, fields };
    if (level === "warn" || level === "error") {
      if (flagged.length < KEPT.MAX_LINES) flagged.push(line);
      else dropped++;
    }
    tail.push(line);
    if (tail.length > KEPT.TAIL) tail.shift();
  };
  const wrap = (log: Logger): Logger => ({
    debug: (e, f) => log.debug(e, f),
    info: (e, f) => (log.info(e, f), add("info", e, f)),
    warn: (e, f) => (log.warn(e, f), add("warn", e, f)),
    error: (e, f) => (log.error(e, f), add("error", e, f)),
    child: (scope) => wrap(log.child(scope)),
  });
  return {
    log: wrap(base),
    lines(failed) {
      const all = failed ? [...new Set([...flagged, ...tail])].sort((a, b) => a.seq - b.seq) : flagged;
      if (!all.length) return null;
      const kept: KeptLine[] = [];
      let size = 0;
      // The newest lines win when the cap is reached: they are nearest the failure.
      for (const line of [...all].reverse()) {
        const out = written(line);
        size += out.event.length + (out.fields?.length ?? 0) + 60;
        if (size > KEPT.MAX_CHARS || kept.length >= KEPT.MAX_LINES) break;
        kept.unshift(out);
      }
      const lost = dropped + all.length - kept.length;
      return lost ? [{ at: kept[0]?.at ?? new Date().toISOString(), level: "warn", event: "log.lines_not_kept", fields: JSON.stringify({ lines: lost }) }, ...kept] : kept;
    },
  };
}

interface Line {
  /** The order lines were made in: many share a millisecond. */
  seq: number;
  at: number;
  level: Level;
  event: string;
  fields: Record<string, unknown> | undefined;
}

function written(line: Line): KeptLine {
  let text: string | undefined;
  try {
    text = line.fields && Object.keys(line.fields).length ? JSON.stringify(line.fields) : undefined;
  } catch {
    text = "(fields not serialisable)";
  }
  const at = new Date(line.at).toISOString();
  return { at, level: line.level, event: line.event, ...(text ? { fields: text.length > KEPT.FIELD_CHARS ? `${text.slice(0, KEPT.FIELD_CHARS - 1)}…` : text } : {}) };
}

/** The payload as the close records it: at most 8 KB of JSON, else a note of its size. */
export function keptPayload(payload: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(payload ?? null);
  } catch {
    return { not_kept: "the payload is not JSON" };
  }
  return text.length > 8192 ? { not_kept: `the payload is ${text.length} characters; the ledger keeps up to 8192` } : (payload ?? null);
}
