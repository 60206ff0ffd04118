import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { emptyState, type EventRecord, type State } from "./types";

const MAX_EVENTS = 5000;

/**
 * The server's state, optionally mirrored to a JSON file. Writes go to a temporary file that is
 * renamed over the old one, so a crash mid-write leaves the previous state intact. Changes are
 * coalesced to one write per turn of the event loop; `flush()` forces it, and the HTTP layer
 * flushes before answering so that an accepted message is on disk before its id is returned.
 */
export class Store {
  readonly state: State;
  readonly file: string | undefined;
  #dirty = false;
  #scheduled = false;
  #closed = false;

  private constructor(state: State, file: string | undefined) {
    this.state = state;
    this.file = file;
  }

  static open(file?: string): Store {
    if (!file) return new Store(emptyState(), undefined);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return new Store(emptyState(), file);
      throw err;
    }
    let parsed: Partial<State>;
    try {
      parsed = JSON.parse(text) as Partial<State>;
    } catch (err) {
      throw new Error(`QStash state file ${file} is not valid JSON (${(err as Error).message}): repair it, or delete it to start empty.`);
    }
    if (parsed.version !== 1) throw new Error(`QStash state file ${file} has unknown version ${String(parsed.version)}: delete it to start empty.`);
    return new Store({ ...emptyState(), ...parsed }, file);
  }

  nextSeq(): number {
    return ++this.state.seq;
  }

  addEvent(event: Omit<EventRecord, "seq">): void {
    this.state.events.push({ seq: this.nextSeq(), ...event });
    if (this.state.events.length > MAX_EVENTS) this.state.events.splice(0, this.state.events.length - MAX_EVENTS);
    this.changed();
  }

  changed(): void {
    if (!this.file || this.#closed) return;
    this.#dirty = true;
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.flush();
    });
  }

  flush(): void {
    if (!this.file || !this.#dirty) return;
    this.#dirty = false;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state));
    renameSync(tmp, this.file);
  }

  /** Writes what is pending and ignores later changes (work still winding down after close). */
  close(): void {
    this.flush();
    this.#closed = true;
  }
}
