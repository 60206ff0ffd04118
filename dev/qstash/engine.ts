import { setMaxListeners } from "node:events";
import type { Clock, TimerHandle } from "./clock";
import { deliveryHeaders, sendAttempt, type AttemptResult } from "./deliver";
import { Gates } from "./gates";
import { MinHeap } from "./heap";
import { randomId } from "./ids";
import { callbackBody, callbackSpec, isNonRetryable, isSuccess, nextRetryDelay } from "./outcome";
import type { Store } from "./store";
import type { EventRecord, EventState, MessageKind, MessageSpec, StoredMessage } from "./types";
import { WaitList } from "./wait-list";

/** Without Upstash-Timeout an attempt may take as long as QStash's free plan allows. */
const DEFAULT_TIMEOUT_MS = 15 * 60_000;
const MAX_EVENT_BODY = 64 * 1024;

export interface EngineOptions {
  store: Store;
  clock: Clock;
  /** Read at each delivery, so a key rotation applies to the next attempt. */
  signingKey: () => string;
  /** The time stamped into signatures (iat, nbf, exp). */
  signingNow: () => number;
  log: (line: string) => void;
}

export type Outcome = "SUCCESS" | "FAIL";

/**
 * Message lifecycle: wait until due, wait for a queue / flow-control slot, attempt, then
 * deliver the callback, retry with backoff, or fail to the DLQ with a failure callback.
 */
export class Engine {
  readonly #o: EngineOptions;
  readonly #timers = new Map<string, TimerHandle>();
  readonly #gates: Gates;
  // Every attempt in flight listens on this one shutdown signal; hundreds at once are normal here.
  readonly #abort = withoutListenerLimit(new AbortController());
  /** Due messages waiting for a queue or flow-control slot (FIFO by creation within each). */
  readonly #waiting = new WaitList();
  readonly #active = new Set<string>();
  /** When each rate-limited key's window reopens, earliest first; one timer for the earliest. */
  readonly #reopens = new MinHeap<{ at: number; key: string }>((a, b) => a.at < b.at);
  readonly #reopenAt = new Map<string, number>();
  #wake: { at: number; handle: TimerHandle } | undefined;
  #closed = false;
  /** While held, due messages wait: `pnpm dev` holds them until the app answers. */
  #held = false;
  /** Told when a message is finally delivered or has failed for good (schedules track this). */
  onSettled: (msg: StoredMessage, outcome: Outcome) => void = () => {};

  constructor(o: EngineOptions) {
    this.#o = o;
    this.#gates = new Gates(
      (name) => o.store.state.queues[name],
      (key) => o.store.state.flowAdmin[key],
    );
  }

  /** For the admin API (queues, flow control): read it, and `kick()` after changing a setting. */
  get gates(): Gates {
    return this.#gates;
  }

  /** Due messages waiting for a slot under a flow-control key. */
  waitListSize(key: string): number {
    return this.#waiting.sizeForKey(key);
  }

  /** Attempts in flight, all keys and queues. */
  get activeCount(): number {
    return this.#active.size;
  }

  /** Re-checks the waiting messages: a resume, unpin or larger parallelism may let some start. */
  kick(): void {
    this.#waiting.markAll();
    this.#pump();
  }

  get #state() {
    return this.#o.store.state;
  }

  /** Picks up the messages of a loaded state file; one that was mid-attempt is attempted again. */
  start(): void {
    for (const msg of Object.values(this.#state.messages)) {
      if (msg.flow) this.#gates.configure(msg.flow);
      this.#arm(msg);
    }
  }

  /** Stops without touching state: work in flight is abandoned and redelivered after a restart. */
  stop(): void {
    this.#closed = true;
    for (const h of this.#timers.values()) this.#o.clock.clearTimer(h);
    if (this.#wake) this.#o.clock.clearTimer(this.#wake.handle);
    this.#timers.clear();
    this.#abort.abort();
  }

  /** Due messages wait (nothing is attempted) until release. */
  hold(): void {
    this.#held = true;
  }

  release(): void {
    this.#held = false;
    this.#waiting.markAll();
    this.#pump();
  }

  create(spec: MessageSpec, o: { notBefore: number; callerIp: string; kind?: MessageKind; scheduleId?: string }): StoredMessage {
    const msg: StoredMessage = {
      ...spec,
      messageId: randomId("msg_"),
      seq: this.#o.store.nextSeq(),
      kind: o.kind ?? "message",
      createdAt: this.#o.clock.now(),
      notBefore: o.notBefore,
      deliverAt: o.notBefore,
      retried: 0,
      callerIp: o.callerIp,
      ...(o.scheduleId !== undefined && { scheduleId: o.scheduleId }),
    };
    this.#state.messages[msg.messageId] = msg;
    this.#o.store.touch("messages", msg.messageId);
    // New settings for a key may let its waiting messages start (a larger parallelism or rate).
    if (msg.flow && this.#gates.configure(msg.flow)) {
      this.#waiting.markKey(msg.flow.key);
      this.#pump();
    }
    // Large bodies stay out of the event log, which is kept (and saved) 5000 events deep.
    this.#event(msg, "CREATED", { header: flat(msg), ...(msg.bodyBase64.length <= MAX_EVENT_BODY && { body: msg.bodyBase64 }) });
    this.#arm(msg);
    return msg;
  }

  /** Cancels a pending message; one mid-attempt gets no further attempts. */
  cancel(messageId: string): boolean {
    const msg = this.#state.messages[messageId];
    if (!msg) return false;
    this.#event(msg, "CANCEL_REQUESTED");
    if (this.#active.has(messageId)) {
      msg.cancelled = true;
      this.#o.store.touch("messages", messageId);
    } else this.#finishCancel(msg);
    return true;
  }

  #finishCancel(msg: StoredMessage) {
    const timer = this.#timers.get(msg.messageId);
    if (timer !== undefined) this.#o.clock.clearTimer(timer);
    this.#timers.delete(msg.messageId);
    this.#waiting.remove(msg);
    delete this.#state.messages[msg.messageId];
    this.#o.store.touch("messages", msg.messageId);
    this.#event(msg, "CANCELLED");
    this.onSettled(msg, "FAIL");
  }

  #arm(msg: StoredMessage) {
    const handle = this.#o.clock.setTimer(msg.deliverAt, () => {
      this.#timers.delete(msg.messageId);
      if (this.#closed || this.#state.messages[msg.messageId] !== msg) return;
      this.#waiting.add(msg);
      this.#pump();
    });
    this.#timers.set(msg.messageId, handle);
  }

  #pump() {
    if (this.#closed || this.#held) return;
    const now = this.#o.clock.now();
    this.#waiting.drain(
      (msg) => this.#gates.check(msg, now),
      (msg) => {
        this.#gates.acquire(msg, now);
        this.#active.add(msg.messageId);
        this.#o.clock.setTimer(now, () => this.#attempt(msg));
      },
      (key, at) => this.#reopenLater(key, at),
    );
  }

  /** A rate window that reopens needs a wake-up of its own: nothing else would look at its key. */
  #reopenLater(key: string, at: number) {
    const known = this.#reopenAt.get(key);
    if (known !== undefined && known <= at) return;
    this.#reopenAt.set(key, at);
    this.#reopens.push({ at, key });
    this.#armWake();
  }

  #armWake() {
    const first = this.#reopens.peek();
    if (!first || (this.#wake && this.#wake.at <= first.at)) return;
    if (this.#wake) this.#o.clock.clearTimer(this.#wake.handle);
    this.#wake = {
      at: first.at,
      handle: this.#o.clock.setTimer(first.at, () => {
        this.#wake = undefined;
        const now = this.#o.clock.now();
        for (let r = this.#reopens.peek(); r && r.at <= now; r = this.#reopens.peek()) {
          this.#reopens.pop();
          if (this.#reopenAt.get(r.key) !== r.at) continue;
          this.#reopenAt.delete(r.key);
          this.#waiting.markKey(r.key);
        }
        this.#pump();
        this.#armWake();
      }),
    };
  }

  async #attempt(msg: StoredMessage) {
    if (this.#closed) return;
    const { clock } = this.#o;
    this.#event(msg, "ACTIVE");
    const result = await sendAttempt({
      url: msg.url,
      method: msg.method,
      headers: deliveryHeaders(msg, this.#o.signingKey(), this.#o.signingNow()),
      body: Buffer.from(msg.bodyBase64, "base64"),
      timeoutMs: msg.timeoutMs !== undefined ? clock.realMs(msg.timeoutMs) : DEFAULT_TIMEOUT_MS,
      signal: this.#abort.signal,
    });
    if (this.#closed) return;
    this.#active.delete(msg.messageId);
    this.#gates.release(msg);
    this.#waiting.markFor(msg);
    this.#settle(msg, result);
    this.#pump();
  }

  #settle(msg: StoredMessage, { response: r, error }: AttemptResult) {
    const now = this.#o.clock.now();
    this.#o.log(`qstash: ${msg.method} ${msg.url} -> ${r ? r.status : error} (${msg.messageId}, retried ${msg.retried})`);
    if (msg.kind === "message" && msg.callback) {
      this.create(callbackSpec(msg, msg.callback, callbackBody(msg, r, error)), { notBefore: now, callerIp: msg.callerIp, kind: "callback" });
    }
    const response = r && { responseStatus: r.status, responseHeader: r.header, responseBody: r.bodyBase64 };
    this.#o.store.touch("messages", msg.messageId);
    if (isSuccess(r)) {
      delete this.#state.messages[msg.messageId];
      this.#event(msg, "DELIVERED", response);
      this.onSettled(msg, "SUCCESS");
      return;
    }
    const why = error ?? `destination answered ${r?.status}`;
    this.#event(msg, "ERROR", { ...response, error: why });
    if (msg.cancelled) return this.#finishCancel(msg);
    if (!isNonRetryable(r) && msg.retried < msg.retries) {
      const delay = nextRetryDelay(msg, r, now);
      msg.retried++;
      msg.deliverAt = now + delay;
      this.#event(msg, "RETRY", { nextDeliveryTime: msg.deliverAt });
      this.#arm(msg);
      return;
    }
    delete this.#state.messages[msg.messageId];
    const dlqId = `${now}-${this.#o.store.nextSeq()}`;
    this.#state.dlq.push({ dlqId, seq: this.#o.store.nextSeq(), message: msg, ...(r && { response: r }), ...(error !== undefined && { error }), failedAt: now });
    this.#o.store.touch("dlq", dlqId);
    this.#event(msg, "FAILED", { ...response, error: why });
    if (msg.kind === "message" && msg.failureCallback) {
      const body = callbackBody(msg, r, error, dlqId);
      this.create(callbackSpec(msg, msg.failureCallback, body), { notBefore: now, callerIp: msg.callerIp, kind: "failureCallback" });
    }
    this.onSettled(msg, "FAIL");
  }

  #event(msg: StoredMessage, state: EventState, extra: Partial<EventRecord> = {}) {
    this.#o.store.addEvent({
      time: this.#o.clock.now(),
      state,
      messageId: msg.messageId,
      url: msg.url,
      method: msg.method,
      ...(msg.scheduleId !== undefined && { scheduleId: msg.scheduleId }),
      ...(msg.queueName !== undefined && { queueName: msg.queueName }),
      ...(msg.topicName !== undefined && { topicName: msg.topicName }),
      ...(msg.endpointName !== undefined && { endpointName: msg.endpointName }),
      ...(msg.flow && { flowControlKey: msg.flow.key }),
      callerIp: msg.callerIp,
      ...(msg.labels && { label: msg.labels[0], labels: msg.labels }),
      ...extra,
    });
  }
}

/** Events carry headers one value per name. */
function flat(msg: StoredMessage): Record<string, string> {
  return Object.fromEntries(Object.entries(msg.header).map(([k, v]) => [k, v.join(", ")]));
}

function withoutListenerLimit(ac: AbortController): AbortController {
  setMaxListeners(0, ac.signal);
  return ac;
}
