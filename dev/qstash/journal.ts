import type { DlqEntry, EventRecord, State } from "./types";

/**
 * The journal next to the state file (`<state file>.journal`): one JSON line per flush holding
 * only what changed since the line before, so that accepting a message costs an append of that
 * message (and its event) instead of a rewrite of the whole state. The state file itself is the
 * snapshot the journal applies to; compaction writes a new snapshot and empties the journal.
 *
 * A line: `{seq, put?: {messages|dedup|dlq: {key: value | null}}, events?: [...], whole?: {...}}`
 * - `put`: records of the large keyed collections, null for a deleted one;
 * - `events`: events appended since the last line (replay skips those the snapshot already has,
 *   so a crash between writing a snapshot and emptying the journal replays nothing twice);
 * - `whole`: the small collections (schedules, queues, URL groups, flow-control admin) that
 *   changed, each written whole.
 */

export type Keyed = "messages" | "dedup" | "dlq";
export type Whole = "schedules" | "queues" | "urlGroups" | "flowAdmin";
export const KEYED: Keyed[] = ["messages", "dedup", "dlq"];
export const WHOLE: Whole[] = ["schedules", "queues", "urlGroups", "flowAdmin"];

export interface JournalLine {
  seq: number;
  put?: Partial<Record<Keyed, Record<string, unknown>>>;
  events?: EventRecord[];
  whole?: Partial<Record<Whole, unknown>>;
}

/**
 * Applies the journal's lines to a snapshot. A last line cut short is a write that a crash
 * interrupted before its requests were answered: it is dropped. Any other bad line is an error.
 */
export function replay(state: State, text: string, file: string, maxEvents: number): State {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const dlq = new Map<string, DlqEntry>(state.dlq.map((d) => [d.dlqId, d]));
  let lastEvent = state.events.at(-1)?.seq ?? 0;
  for (const [i, text] of lines.entries()) {
    let line: JournalLine;
    try {
      line = JSON.parse(text) as JournalLine;
    } catch (err) {
      if (i === lines.length - 1) break;
      throw new Error(`QStash journal ${file} line ${i + 1} is not valid JSON (${(err as Error).message}): delete the journal to lose its changes, or the state file and the journal to start empty.`);
    }
    state.seq = Math.max(state.seq, line.seq);
    for (const c of KEYED) {
      for (const [key, value] of Object.entries(line.put?.[c] ?? {})) {
        if (c === "dlq") {
          if (value === null) dlq.delete(key);
          else dlq.set(key, value as DlqEntry);
        } else if (value === null) delete state[c][key];
        else (state[c] as Record<string, unknown>)[key] = value;
      }
    }
    for (const e of line.events ?? []) {
      if (e.seq <= lastEvent) continue;
      state.events.push(e);
      lastEvent = e.seq;
    }
    for (const c of WHOLE) if (line.whole?.[c] !== undefined) (state as unknown as Record<string, unknown>)[c] = line.whole[c];
  }
  state.dlq = [...dlq.values()].sort((a, b) => a.seq - b.seq);
  if (state.events.length > maxEvents) state.events.splice(0, state.events.length - maxEvents);
  return state;
}
