import type { Env } from "../env";

/** What jobs may ask of the outside world. Each has a live, an outbox (local) and a no-op form. */

export interface EmailMessage {
  to: string | string[];
  subject: string;
  text: string;
  html: string;
  /** Resend keeps the first email per key for 24 h; the outbox keeps it forever. */
  idempotencyKey: string;
  tags?: Record<string, string>;
}

/** Resend's batch endpoint takes at most this many emails per request. */
export const EMAIL_BATCH_MAX = 100;

/** Up to 100 emails in one request under one idempotency key (the request's, not each email's). */
export interface EmailBatch {
  emails: Omit<EmailMessage, "idempotencyKey">[];
  /** Resend answers a repeat of the same request under this key with the first answer for 24 h. */
  idempotencyKey: string;
}

/**
 * Per email, in the batch's order: its id (made), the provider's reason for refusing it (not
 * made), or undefined when the answer says nothing about it (may have been made).
 */
export type EmailBatchAnswer = ({ id: string } | { rejected: string } | undefined)[];

export interface EmailProvider {
  send(message: EmailMessage, signal?: AbortSignal): Promise<{ id: string }>;
  sendBatch(batch: EmailBatch, signal?: AbortSignal): Promise<EmailBatchAnswer>;
}

export interface NotificationTrigger {
  workflowId: string;
  subscriber: { id: string; email?: string; name?: string };
  payload: Record<string, unknown>;
  /** Novu ignores a second trigger with the same transaction id. */
  transactionId: string;
}

export interface NotifyProvider {
  trigger(t: NotificationTrigger, signal?: AbortSignal): Promise<{ transactionId: string }>;
}

export interface SlackProvider {
  /** Slack webhooks have no idempotency key: callers claim `key` in SQL before posting. */
  post(m: { text: string; key: string }, signal?: AbortSignal): Promise<void>;
}

/** A vendor: the layer's are resend, novu and slack; products add theirs (stripe, vapi, ...). */
export type ProviderName = string;
export type ProviderMode = "live" | "outbox" | "noop" | "missing";

/** What a provider is built from: the env, where a provider without a key sends, how it reports its mode. */
export interface ProviderKit {
  env: Env;
  /** Local mode or a noop sink: a provider without a key records to `record` instead of refusing. */
  standIn: boolean;
  /** Benchmarks: every provider records nothing, keys or not. */
  noop: boolean;
  record: OutboxRecorder;
  modeOf(configured: boolean): ProviderMode;
}

export interface Providers {
  /** Throws ConfigError naming the variable when the key is missing outside local mode. */
  email(): EmailProvider;
  notify(): NotifyProvider;
  /** Slack is optional: undefined when SLACK_WEBHOOK_URL is unset outside local mode. */
  slack(): SlackProvider | undefined;
  /** How each of the layer's providers would send right now; products add theirs (lib/products/providers.ts). */
  modes(): Record<ProviderName, ProviderMode>;
  /** What products build their own providers from. */
  kit: ProviderKit;
  /** A provider as this view calls it: with the run's signal, and behind its fence. Methods take (request, signal?). */
  bind<T extends object>(provider: T): T;
}

/** How a stand-in records what it would have sent (outbox.ts), in `provider_outbox`. */
export type OutboxRecorder = ((provider: ProviderName, key: string, payload: unknown, signal?: AbortSignal) => Promise<void>) & {
  /** What was recorded for `provider` with a payload containing `match`, newest first: how a stand-in answers lookups. */
  find?: (provider: ProviderName, match: Record<string, unknown>, opts: { since?: Date; signal?: AbortSignal }) => Promise<OutboxEntry[]>;
};

export interface OutboxEntry {
  id: number;
  provider: ProviderName;
  key: string;
  payload: Record<string, unknown>;
  created_at: string;
}
