import { appendFileSync, closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { KEYED, replay, WHOLE, type JournalLine, type Keyed, type Whole } from "./journal";
import { emptyState, type EventRecord, type State } from "./types";

const MAX_EVENTS = 5000;
/** Compact once the journal is this large: the rewrite of the state is then paid once per ~8 MB of changes. */
const COMPACT_BYTES = 8 * 1024 * 1024;

/**
 * The server's state, optionally kept on disk as a snapshot (the state file, JSON) and a journal
 * of changes appended to it (see journal.ts). Changes are coalesced to one journal line per turn
 * of the event loop; `flush()` forces it, and the HTTP layer flushes before answering, so an
 * accepted message is on disk (written to the OS, as the whole-file rewrite before it was) before
 * its id is returned.
 *
 * Code that changes a message, a dedup entry or a DLQ entry says so with `touch`; the small
 * collections (schedules, queues, URL groups, flow-control admin) are compared with what was last
 * written whenever `changed()` was called, and events go through `addEvent`.
 */
export class Store {
  readonly state: State;
  readonly file: string | undefined;
  #journalFd: number | undefined;
  #journalBytes = 0;
  #touched = new Map<Keyed, Set<string>>(KEYED.map((c) => [c, new Set()]));
  /** Events not yet journaled start at this seq. */
  #eventsAfter: number;
  #wholeDirty = false;
  #written: Partial<Record<Whole, string>> = {};
  #scheduled = false;
  #closed = false;

  private constructor(state: State, file: string | undefined) {
    this.state = state;
    this.file = file;
    this.#eventsAfter = state.events.at(-1)?.seq ?? 0;
  }

  static open(file?: string): Store {
    if (!file) return new Store(emptyState(), undefined);
    const store = new Store(loadState(file), file);
    // Start from a fresh snapshot and an empty journal: replay cost stays bounded across restarts.
    store.compact();
    return store;
  }

  get journalFile(): string | undefined {
    return this.file && `${this.file}.journal`;
  }

  nextSeq(): number {
    return ++this.state.seq;
  }

  /** A message, dedup entry or DLQ entry (by dlqId) was added, changed or removed. */
  touch(c: Keyed, key: string): void {
    if (!this.file || this.#closed) return;
    this.#touched.get(c)!.add(key);
    this.#schedule();
  }

  addEvent(event: Omit<EventRecord, "seq">): void {
    this.state.events.push({ seq: this.nextSeq(), ...event });
    if (this.state.events.length > MAX_EVENTS) this.state.events.splice(0, this.state.events.length - MAX_EVENTS);
    this.#schedule();
  }

  /** Something in the small collections (schedules, queues, URL groups, flow control) changed. */
  changed(): void {
    this.#wholeDirty = true;
    this.#schedule();
  }

  #schedule() {
    if (!this.file || this.#closed || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.flush();
    });
  }

  /** Appends what changed since the last flush as one journal line; compacts when the journal is large. */
  flush(): void {
    if (!this.file || this.#closed) return;
    const line = this.#pending();
    if (!line) return;
    const text = `${JSON.stringify(line)}\n`;
    this.#journalFd ??= openSync(this.journalFile!, "a");
    appendFileSync(this.#journalFd, text);
    this.#journalBytes += Buffer.byteLength(text);
    if (this.#journalBytes > COMPACT_BYTES) this.compact();
  }

  #pending(): JournalLine | undefined {
    const line: JournalLine = { seq: this.state.seq };
    let any = false;
    for (const c of KEYED) {
      const keys = this.#touched.get(c)!;
      if (keys.size === 0) continue;
      const values: Record<string, unknown> = {};
      const dlq = c === "dlq" ? new Map(this.state.dlq.map((d) => [d.dlqId, d])) : undefined;
      for (const k of keys) values[k] = (dlq ? dlq.get(k) : (this.state[c] as Record<string, unknown>)[k]) ?? null;
      (line.put ??= {})[c] = values;
      keys.clear();
      any = true;
    }
    // From the end: the unjournaled events are the last few of up to 5,000.
    let from = this.state.events.length;
    while (from > 0 && this.state.events[from - 1]!.seq > this.#eventsAfter) from--;
    const events = this.state.events.slice(from);
    if (events.length > 0) {
      line.events = events;
      this.#eventsAfter = events.at(-1)!.seq;
      any = true;
    }
    if (this.#wholeDirty) {
      this.#wholeDirty = false;
      for (const c of WHOLE) {
        const json = JSON.stringify(this.state[c]);
        if (json === this.#written[c]) continue;
        this.#written[c] = json;
        (line.whole ??= {})[c] = this.state[c];
        any = true;
      }
    }
    return any ? line : undefined;
  }

  /** Writes the whole state as the new snapshot (temporary file, then rename) and empties the journal. */
  compact(): void {
    if (!this.file) return;
    for (const set of this.#touched.values()) set.clear();
    this.#eventsAfter = this.state.events.at(-1)?.seq ?? 0;
    this.#wholeDirty = false;
    for (const c of WHOLE) this.#written[c] = JSON.stringify(this.state[c]);
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state));
    renameSync(tmp, this.file);
    // Only once the snapshot is in place: a crash before this replays the journal onto it, harmlessly.
    if (this.#journalFd !== undefined) ftruncateSync(this.#journalFd, 0);
    else if (existsSync(this.journalFile!)) writeFileSync(this.journalFile!, "");
    this.#journalBytes = 0;
  }

  /** Compacts and removes the journal, then ignores later changes (work still winding down after close). */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.compact();
    this.#closed = true;
    if (this.#journalFd !== undefined) closeSync(this.#journalFd);
    this.#journalFd = undefined;
    if (this.journalFile && existsSync(this.journalFile)) unlinkSync(this.journalFile);
  }
}

function readSnapshot(file: string): State {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return emptyState();
    throw err;
  }
  let parsed: Partial<State>;
  try {
    parsed = JSON.parse(text) as Partial<State>;
  } catch (err) {
    throw new Error(`QStash state file ${file} is not valid JSON (${(err as Error).message}): repair it, or delete it to start empty.`);
  }
  if (parsed.version !== 1) throw new Error(`QStash state file ${file} has unknown version ${String(parsed.version)}: delete it to start empty.`);
  return { ...emptyState(), ...parsed };
}

/** The state on disk (snapshot plus journal) as a restart would see it, without changing the files. */
export function loadState(file: string): State {
  const state = readSnapshot(file);
  const journal = `${file}.journal`;
  if (!existsSync(journal) || statSync(journal).size === 0) return state;
  return replay(state, readFileSync(journal, "utf8"), journal, MAX_EVENTS);
}
