import { createHash } from "node:crypto";
import type { Db } from "../db/types";
import type { EmailProvider, NotifyProvider, OutboxEntry, OutboxRecorder, ProviderName, SlackProvider } from "./types";

export type { OutboxEntry, OutboxRecorder } from "./types";

/**
 * Local mode without vendor keys: each provider records what it would have sent in
 * `provider_outbox`, keyed by the idempotency key it would have used, and answers like the vendor
 * would (ids derived from the key, so a repeat answers the same). `pnpm dev` needs no accounts.
 */
export function outboxRecorder(db: Db): OutboxRecorder {
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
export const noopRecorder: OutboxRecorder = async () => {};

/** The id a stand-in answers with: derived from the key, so a repeat answers the same. */
export const idOf = (prefix: string, key: string) => `${prefix}_local_${createHash("sha256").update(key).digest("hex").slice(0, 20)}`;

export function outboxEmail(record: OutboxRecorder, from: string): EmailProvider {
  return {
    async send(m, signal) {
      await record("resend", m.idempotencyKey, { from, to: m.to, subject: m.subject, text: m.text, html: m.html, tags: m.tags }, signal);
      return { id: idOf("email", m.idempotencyKey) };
    },
    // One request, one row: a batch is recorded as Resend receives it, N emails under the request's
    // key, so what a run sent reads as requests and emails apart (`batch` in the payload).
    async sendBatch(b, signal) {
      await record("resend", b.idempotencyKey, { from, batch: b.emails.map((m) => ({ to: m.to, subject: m.subject, text: m.text, html: m.html, tags: m.tags })) }, signal);
      return b.emails.map((_, i) => ({ id: idOf("email", `${b.idempotencyKey}#${i}`) }));
    },
  };
}

export function outboxNotify(record: OutboxRecorder): NotifyProvider {
  return {
    async trigger(t, signal) {
      await record("novu", t.transactionId, { workflowId: t.workflowId, to: t.subscriber, payload: t.payload }, signal);
      return { transactionId: t.transactionId };
    },
  };
}

export function outboxSlack(record: OutboxRecorder): SlackProvider {
  return {
    async post({ text, key }, signal) {
      await record("slack", key, { text }, signal);
    },
  };
}

/** What was recorded since `since`, newest first: what a local run would have sent. */
export function recentOutbox(db: Db, opts: { since?: Date; limit?: number } = {}): Promise<OutboxEntry[]> {
  return db.rpc<OutboxEntry[]>("provider_outbox_recent", { p_limit: opts.limit ?? 50, p_since: opts.since ?? null });
}

/** One line per entry: who it is for and what it says, without the bodies. */
export function describeOutboxEntry(e: OutboxEntry): string {
  const p = e.payload;
  if (Array.isArray(p.batch)) {
    const emails = p.batch as Record<string, unknown>[];
    const first = emails[0];
    const subject = typeof first?.subject === "string" ? `: ${first.subject}` : "";
    return `${e.provider.padEnd(6)} batch of ${emails.length} to ${recipient(first?.to)}${emails.length > 1 ? ` and ${emails.length - 1} more` : ""}${subject}  (key ${e.key})`;
  }
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
