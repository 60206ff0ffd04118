import type { Env } from "../../lib/env";
import { ProviderError } from "../../lib/errors";
import { defineProductProviders } from "../../lib/products";
import type { ProviderKit, Providers } from "../../lib/providers/types";
import type { Proc, World } from "./world";

/** A call as a Vapi-like voice vendor answers it (the simulation's own types: it runs no product). */
export interface VoiceCall {
  id: string;
  status: string;
}

/** A Vapi-like voice vendor: no idempotency key, but a record to look a lost call up in. */
export interface SimVoice {
  call(r: { customer: { number: string; name?: string }; key: string }, signal?: AbortSignal): Promise<VoiceCall>;
  findCall(q: { number: string; since: Date; until: Date; key: string }, signal?: AbortSignal): Promise<VoiceCall | undefined>;
}

/** The kit of the simulation's providers carries the process's voice vendor, for `simVendors` to build from. */
export interface SimKit extends ProviderKit {
  voice: SimVoice;
}

/**
 * The simulation's own vendors beyond the layer's, declared as a product declares its own
 * (lib/products/providers.ts): a job reaches them with `simVendors.of(ctx.providers)`, so the layer
 * binds them to the run's signal and fence as it binds a product's.
 */
export const simVendors = defineProductProviders("sim", (kit) => ({ voice: () => (kit as SimKit).voice }), () => ({ vapi: true }));

/** What a provider does with one request: make the effect or not, and what the app hears. */
export type ProviderAnswer = "ok" | "reject" | "5xx-before" | "5xx-after" | { slowMs: number };

/**
 * The provider edge, where effects are counted as they leave the app: per key, how many times
 * each provider made it. `email` keeps the first request per idempotency key (Resend); `voice`
 * keeps none but lists what it made (Vapi's GET /call); `slack` keeps none and lists nothing.
 */
export class Edge {
  readonly made = new Map<string, number>();
  /** Keys whose call answered success to the app. */
  readonly heardOk = new Set<string>();
  requests = 0;

  count(provider: string, key: string) {
    return this.made.get(`${provider}:${key}`) ?? 0;
  }
}

/**
 * Providers as the simulation's processes see them: each request is a step (the provider acts on
 * it), its answer another; the run's signal aborts a request at once, before or after it was sent.
 */
export function simProviders(opts: { world: World; proc: Proc; edge: Edge; env: Env; answer: () => ProviderAnswer }): Providers & { kit: SimKit } {
  const { world, proc, edge } = opts;
  const request = <T>(provider: string, key: string, idempotent: boolean, reply: () => T, signal?: AbortSignal): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      let finished = false;
      const finish = (f: () => void) => {
        if (finished) return;
        finished = true;
        signal?.removeEventListener("abort", onAbort);
        f();
      };
      const onAbort = () => finish(() => reject(abortError(signal!)));
      signal?.addEventListener("abort", onAbort);
      void world.point(proc, `${provider} ${key}`, () => {
        if (finished) return; // aborted before it left
        edge.requests++;
        const drawn = opts.answer();
        // A slow provider: it acts now and answers success after a while (a hang, unless the run's signal ends it first).
        const a = typeof drawn === "object" ? "ok" : drawn;
        const made = a === "ok" || a === "5xx-after";
        const id = `${provider}:${key}`;
        if (made && !(idempotent && edge.made.has(id))) edge.made.set(id, (edge.made.get(id) ?? 0) + 1);
        const answer = () =>
          finish(() => {
            if (a === "ok") {
              edge.heardOk.add(id);
              resolve(reply());
            } else reject(new ProviderError(provider, a === "reject" ? "HTTP 422: invalid request" : "HTTP 503: unavailable", a === "reject" ? 422 : 503));
          });
        if (typeof drawn === "object") world.timersFor(proc).setTimeout(() => void world.point(proc, `${provider} ${key} answer (slow)`, answer), drawn.slowMs);
        else void world.point(proc, `${provider} ${key} answer ${a}`, answer);
      });
    });
  const unused = (name: string) => () => {
    throw new Error(`the simulation has no ${name} provider`);
  };
  const voice: SimVoice = {
    call: (r, signal) => request<VoiceCall>("voice", r.key, false, () => ({ id: `call_${r.key}`, status: "queued" }), signal),
    findCall: (q, signal) =>
      new Promise<VoiceCall | undefined>((resolve, reject) => {
        if (signal?.aborted) return reject(abortError(signal));
        void world.point(proc, `voice find ${q.key}`, () => resolve(edge.count("voice", q.key) ? { id: `call_${q.key}`, status: "queued" } : undefined));
      }),
  };
  const record = Object.assign(() => Promise.reject(new Error("the simulation records nothing in an outbox")), {});
  return {
    email: () => ({
      send: (m, signal) => request("email", m.idempotencyKey, true, () => ({ id: `em_${m.idempotencyKey}` }), signal),
      sendBatch: () => Promise.reject(new Error("the simulation's jobs send no batches")),
    }),
    slack: () => ({ post: (m, signal) => request("slack", m.key, false, () => undefined, signal) }),
    notify: unused("notify"),
    modes: () => ({ resend: "live", novu: "noop", slack: "live" }),
    kit: { env: opts.env, standIn: false, noop: false, record, modeOf: (configured) => (configured ? "live" : "noop"), voice },
    // The run's view (lib/providers/bind.ts) adds the signal and the fence; the provider itself is as it is.
    bind: (provider) => provider,
  };
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason as unknown;
  if (reason instanceof Error && (reason.name === "TimeoutError" || reason.name === "AbortError")) return reason;
  const err = new Error(`aborted: ${reason instanceof Error ? reason.message : String(reason)}`);
  err.name = "AbortError";
  return err;
}
