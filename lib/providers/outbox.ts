import { createHash } from "node:crypto";
import type { Db } from "../db/types";
import type { EmailProvider, GoogleOAuthProvider, NotifyProvider, PaymentsProvider, ProviderName, ProviderPayment, SlackProvider, StripeProvider, VoiceProvider } from "./types";

/**
 * Local mode without vendor keys: each provider records what it would have sent in
 * `provider_outbox`, keyed by the idempotency key it would have used, and answers like the vendor
 * would (ids derived from the key, so a repeat answers the same). `pnpm dev` needs no accounts.
 */
type Record_ = ((provider: ProviderName, key: string, payload: unknown, signal?: AbortSignal) => Promise<void>) & {
  /** What was recorded for `provider` with a payload containing `match`, newest first: how a stand-in answers lookups. */
  find?: (provider: ProviderName, match: Record<string, unknown>, opts: { since?: Date; signal?: AbortSignal }) => Promise<OutboxEntry[]>;
};

export function outboxRecorder(db: Db): Record_ {
  return Object.assign(
    async (provider: ProviderName, key: string, payload: unknown, signal?: AbortSignal) => {
      await db.rpc("provider_outbox_record", { p_provider: provider, p_key: key, p_payload: payload }, { signal });
    },
    {
      find: (provider: ProviderName, match: Record<string, unknown>, opts: { since?: Date; signal?: AbortSignal }) =>
        db.rpc<OutboxEntry[]>("provider_outbox_find", { p_provider: provider, p_match: match, p_since: opts.since ?? null }, { signal: opts.signal }),
    },
  );
}

/** A sink that records nothing (benchmarks): measures the job, not the vendor. */
export const noopRecorder: Record_ = async () => {};

const idOf = (prefix: string, key: string) => `${prefix}_local_${createHash("sha256").update(key).digest("hex").slice(0, 20)}`;

export function outboxEmail(record: Record_, from: string): EmailProvider {
  return {
    async send(m, signal) {
      await record("resend", m.idempotencyKey, { from, to: m.to, subject: m.subject, text: m.text, html: m.html, tags: m.tags }, signal);
      return { id: idOf("email", m.idempotencyKey) };
    },
  };
}

export function outboxNotify(record: Record_): NotifyProvider {
  return {
    async trigger(t, signal) {
      await record("novu", t.transactionId, { workflowId: t.workflowId, to: t.subscriber, payload: t.payload }, signal);
      return { transactionId: t.transactionId };
    },
  };
}

export function outboxStripe(record: Record_): StripeProvider {
  return {
    async createTransfer(t, signal) {
      const { idempotencyKey, ...rest } = t;
      await record("stripe", idempotencyKey, { type: "transfer", ...rest }, signal);
      return { id: idOf("tr", idempotencyKey) };
    },
    async createPayout(p, signal) {
      const { idempotencyKey, ...rest } = p;
      await record("stripe", idempotencyKey, { type: "payout", ...rest }, signal);
      return { id: idOf("po", idempotencyKey), arrivalDate: arrivalAfter(Date.now()) };
    },
    // A recorder that keeps nothing (noop) finds nothing.
    async findTransfer(q, signal) {
      const [e] = (await record.find?.("stripe", { type: "transfer", transferGroup: q.transferGroup, metadata: q.metadata }, { signal })) ?? [];
      return e && { id: idOf("tr", e.key) };
    },
    async findPayout(q, signal) {
      const [e] = (await record.find?.("stripe", { type: "payout", account: q.account, metadata: q.metadata }, { since: q.createdSince, signal })) ?? [];
      return e && { id: idOf("po", e.key), arrivalDate: arrivalAfter(Date.parse(e.created_at)) };
    },
  };
}

/** Standard payouts arrive about two business days later; near enough for a local stand-in. */
const arrivalAfter = (ms: number) => new Date(ms + 2 * 86_400_000).toISOString().slice(0, 10);

export function outboxGoogle(record: Record_): GoogleOAuthProvider {
  return {
    async refresh({ refreshToken, key }, signal) {
      // The refresh token is a secret: the outbox shows which one, never the token itself.
      await record("google", key, { grant_type: "refresh_token", refresh_token: `…${refreshToken.slice(-4)}` }, signal);
      return { ok: true, accessToken: idOf("ya29", key), expiresInSeconds: 3600 };
    },
  };
}

export function outboxSlack(record: Record_): SlackProvider {
  return {
    async post({ text, key }, signal) {
      await record("slack", key, { text }, signal);
    },
  };
}

/** A call is recorded, not placed: `pnpm dev` shows who would have been called, and when. */
export function outboxVoice(record: Record_): VoiceProvider {
  return {
    async call({ customer, key }, signal) {
      await record("vapi", key, { to: customer.number, name: customer.name }, signal);
      return { id: idOf("call", key), status: "queued" };
    },
    async findCall(q, signal) {
      const found = (await record.find?.("vapi", { to: q.number }, { since: q.since, signal })) ?? [];
      return found.some((e) => e.key === q.key) ? { id: idOf("call", q.key), status: "queued" } : undefined;
    },
  };
}

/**
 * Razorpay without keys: nothing is sent, so there is nothing to record. A payment's status is
 * what was last recorded for it (provider `razorpay`, payload `{ type: "payment", id, status }`,
 * e.g. by the seed or by hand to play a capture), else "created": a stale payment stays pending.
 */
export function outboxPayments(record: Record_): PaymentsProvider {
  return {
    async fetchPayment(id, signal) {
      const [e] = (await record.find?.("razorpay", { type: "payment", id }, { signal })) ?? [];
      const p = (e?.payload ?? {}) as Partial<ProviderPayment> & { order_id?: string };
      return { id, status: p.status ?? "created", orderId: p.order_id ?? null, amount: typeof p.amount === "number" ? p.amount : undefined, currency: p.currency ?? "INR" };
    },
  };
}

export interface OutboxEntry {
  id: number;
  provider: ProviderName;
  key: string;
  payload: Record<string, unknown>;
  created_at: string;
}

/** What was recorded since `since`, newest first: what a local run would have sent. */
export function recentOutbox(db: Db, opts: { since?: Date; limit?: number } = {}): Promise<OutboxEntry[]> {
  return db.rpc<OutboxEntry[]>("provider_outbox_recent", { p_limit: opts.limit ?? 50, p_since: opts.since ?? null });
}

/** One line per entry: who it is for and what it says, without the bodies. */
export function describeOutboxEntry(e: OutboxEntry): string {
  const p = e.payload;
  const what = typeof p.subject === "string" ? p.subject : typeof p.workflowId === "string" ? `workflow ${p.workflowId}` : typeof p.amount === "number" ? `${p.amount} ${String(p.currency ?? "")}`.trim() : "";
  return `${e.provider.padEnd(6)} ${recipient(p.to ?? p.subscriber ?? p.destination)}${what ? `: ${what}` : ""}  (key ${e.key})`;
}

/** An address, a list of them, or a Novu subscriber ({ id | subscriberId, email? }) as one readable string. */
function recipient(to: unknown): string {
  if (typeof to === "string") return to;
  if (Array.isArray(to)) return to.map(recipient).join(", ");
  if (to && typeof to === "object") {
    const s = to as { id?: unknown; subscriberId?: unknown; email?: unknown };
    const id = s.subscriberId ?? s.id;
    const email = typeof s.email === "string" ? s.email : undefined;
    if (typeof id === "string") return email ? `${id} (${email})` : id;
    if (email) return email;
  }
  return "";
}
