import { MinHeap } from "./heap";
import type { StoredMessage } from "./types";

/**
 * Due messages waiting for a queue or flow-control slot, kept so that holding 100,000 of them
 * costs each arrival, start and cancel O(log n), not a scan of the whole list.
 *
 * Messages are grouped by (queue, flow-control key): the gates decide alike for every message of
 * a group, so a group is a FIFO by creation order (`seq`) and only its oldest message needs asking.
 * A group whose oldest may not start waits until one of its resources (its queue or its key)
 * changes: a slot freed, a rate window reopened, a setting changed. Whoever changes a resource
 * marks its groups; `drain` then looks only at the marked groups, oldest message first across
 * them, which starts exactly what a scan of every waiting message in creation order would.
 */

interface Entry {
  msg: StoredMessage;
}

interface Group {
  id: string;
  queueName: string | undefined;
  key: string | undefined;
  /** Oldest first; entries of cancelled messages stay until they reach the top (see `remove`). */
  heap: MinHeap<Entry>;
  size: number;
}

const bySeq = (a: Entry, b: Entry) => a.msg.seq < b.msg.seq;

export class WaitList {
  readonly #groups = new Map<string, Group>();
  readonly #byQueue = new Map<string, Set<Group>>();
  readonly #byKey = new Map<string, Set<Group>>();
  /** The live entry of each waiting message. */
  readonly #entries = new Map<StoredMessage, { group: Group; entry: Entry }>();
  readonly #marked = new Set<Group>();
  #allMarked = false;

  get size(): number {
    return this.#entries.size;
  }

  /** Messages waiting under a flow-control key (the admin API's `waitListSize`). */
  sizeForKey(key: string): number {
    let n = 0;
    for (const g of this.#byKey.get(key) ?? []) n += g.size;
    return n;
  }

  add(msg: StoredMessage): void {
    const group = this.#group(msg);
    const entry = { msg };
    group.heap.push(entry);
    group.size++;
    this.#entries.set(msg, { group, entry });
    // Others of its key or queue may have been held by a window that reopens at this very instant.
    this.#marked.add(group);
    this.markFor(msg);
  }

  /** Removes a waiting message (a cancel); false when it was not waiting. */
  remove(msg: StoredMessage): boolean {
    const at = this.#entries.get(msg);
    if (!at) return false;
    this.#entries.delete(msg);
    const g = at.group;
    if (--g.size === 0) this.#drop(g);
    // Lazily: the entry is skipped when it reaches the top; compacted if most of a heap is stale.
    else if (g.heap.size > 2 * g.size + 64) g.heap.retain((e) => this.#entries.get(e.msg)?.entry === e);
    return true;
  }

  /** The groups that share a resource with `msg` may start now (its attempt ended, its key changed). */
  markFor(msg: { queueName?: string; flow?: { key: string } }): void {
    if (msg.queueName !== undefined) this.markQueue(msg.queueName);
    if (msg.flow) this.markKey(msg.flow.key);
  }

  markQueue(name: string): void {
    for (const g of this.#byQueue.get(name) ?? []) this.#marked.add(g);
  }

  markKey(key: string): void {
    for (const g of this.#byKey.get(key) ?? []) this.#marked.add(g);
  }

  /** A setting changed somewhere (admin API, resume): look at every group. */
  markAll(): void {
    this.#allMarked = true;
  }

  /**
   * Starts, oldest first across the marked groups, every message that `gate` lets through; a
   * group whose oldest is refused is left until it is marked again. `gate` answers `true`, or
   * the time its key's rate window reopens (`Infinity`: until a slot frees or a resume), which
   * is passed to `onWait` so that the caller can mark the key then.
   */
  drain(gate: (msg: StoredMessage) => true | number, start: (msg: StoredMessage) => void, onWait: (key: string, at: number) => void): void {
    const groups = this.#allMarked ? [...this.#groups.values()] : [...this.#marked];
    this.#marked.clear();
    this.#allMarked = false;
    const order = new MinHeap<{ seq: number; group: Group }>((a, b) => a.seq < b.seq);
    for (const group of groups) {
      const head = this.#head(group);
      if (head) order.push({ seq: head.seq, group });
    }
    for (let next = order.pop(); next; next = order.pop()) {
      const { group } = next;
      const msg = this.#head(group)!;
      const verdict = gate(msg);
      if (verdict !== true) {
        if (verdict !== Infinity && msg.flow) onWait(msg.flow.key, verdict);
        continue;
      }
      group.heap.pop();
      this.remove(msg);
      start(msg);
      const head = this.#groups.get(group.id) === group ? this.#head(group) : undefined;
      if (head) order.push({ seq: head.seq, group });
    }
  }

  /** The oldest live message of a group, dropping stale entries on the way. */
  #head(g: Group): StoredMessage | undefined {
    for (let e = g.heap.peek(); e; e = g.heap.peek()) {
      if (this.#entries.get(e.msg)?.entry === e) return e.msg;
      g.heap.pop();
    }
    return undefined;
  }

  #group(msg: StoredMessage): Group {
    const queueName = msg.queueName;
    const key = msg.flow?.key;
    const id = JSON.stringify([queueName ?? null, key ?? null]);
    let g = this.#groups.get(id);
    if (g) return g;
    g = { id, queueName, key, heap: new MinHeap(bySeq), size: 0 };
    this.#groups.set(id, g);
    if (queueName !== undefined) setOf(this.#byQueue, queueName).add(g);
    if (key !== undefined) setOf(this.#byKey, key).add(g);
    return g;
  }

  #drop(g: Group): void {
    this.#groups.delete(g.id);
    this.#marked.delete(g);
    if (g.queueName !== undefined) unlink(this.#byQueue, g.queueName, g);
    if (g.key !== undefined) unlink(this.#byKey, g.key, g);
  }
}

function setOf<K, V>(m: Map<K, Set<V>>, k: K): Set<V> {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  return s;
}

function unlink<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k);
  s?.delete(v);
  if (s?.size === 0) m.delete(k);
}
