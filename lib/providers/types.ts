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

export interface EmailProvider {
  send(message: EmailMessage, signal?: AbortSignal): Promise<{ id: string }>;
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

export interface TransferRequest {
  /** In the currency's smallest unit (cents). */
  amount: number;
  currency: string;
  /** The connected account, acct_... */
  destination: string;
  /** The charge the money came from, so the transfer waits for those funds. */
  sourceTransaction?: string;
  transferGroup?: string;
  metadata: Record<string, string>;
  idempotencyKey: string;
}

export interface PayoutRequest {
  /** The connected account that pays out to its bank. */
  account: string;
  amount: number;
  currency: string;
  metadata: Record<string, string>;
  idempotencyKey: string;
}

/** Finds a transfer already made: by its group, then by every entry of `metadata`. */
export interface TransferLookup {
  transferGroup: string;
  metadata: Record<string, string>;
}

/** Finds a payout already made on `account`, created at or after `createdSince`, by every entry of `metadata`. */
export interface PayoutLookup {
  account: string;
  createdSince: Date;
  metadata: Record<string, string>;
}

export interface Transfer {
  id: string;
}

export interface Payout {
  id: string;
  /** The day (yyyy-mm-dd, UTC) Stripe expects the money in the bank. */
  arrivalDate: string;
}

/**
 * Stripe keeps an idempotency key for 24 hours only: a call whose answer was lost is looked up
 * (find*) before it is made again, or a late retry would move the money twice.
 */
export interface StripeProvider {
  createTransfer(t: TransferRequest, signal?: AbortSignal): Promise<Transfer>;
  createPayout(p: PayoutRequest, signal?: AbortSignal): Promise<Payout>;
  findTransfer(q: TransferLookup, signal?: AbortSignal): Promise<Transfer | undefined>;
  findPayout(q: PayoutLookup, signal?: AbortSignal): Promise<Payout | undefined>;
}

export type TokenRefresh =
  | { ok: true; accessToken: string; expiresInSeconds: number; refreshToken?: string; scope?: string }
  /** The grant is gone (revoked, expired, password changed): only the user can fix it. */
  | { ok: false; revoked: true; reason: string };

export interface GoogleOAuthProvider {
  /** `key` identifies this refresh for the outbox (there is no vendor idempotency key). */
  refresh(r: { refreshToken: string; key: string }, signal?: AbortSignal): Promise<TokenRefresh>;
}

export interface SlackProvider {
  /** Slack webhooks have no idempotency key: callers claim `key` in SQL before posting. */
  post(m: { text: string; key: string }, signal?: AbortSignal): Promise<void>;
}

/** An outbound phone call placed by a voice assistant. */
export interface VoiceCallRequest {
  customer: { number: string; name?: string };
  /** Vapi has no idempotency key: callers claim `key` as an effect before calling; the outbox keys on it. */
  key: string;
}

export interface VoiceCall {
  id: string;
  status: string;
}

/** Finds a call already placed to `number` (by this assistant and phone number) created in [since, until]. */
export interface VoiceCallLookup {
  number: string;
  since: Date;
  until: Date;
  /** The key the call was placed under (the outbox matches on it; Vapi keeps no key). */
  key: string;
}

export interface VoiceProvider {
  call(r: VoiceCallRequest, signal?: AbortSignal): Promise<VoiceCall>;
  /** Vapi's own record: how a call whose answer was lost is told from one never placed. */
  findCall(q: VoiceCallLookup, signal?: AbortSignal): Promise<VoiceCall | undefined>;
}

/** A payment as Razorpay reports it (GET /v1/payments/:id); amounts in the smallest unit. */
export interface ProviderPayment {
  id: string;
  status: "created" | "authorized" | "captured" | "refunded" | "failed";
  orderId: string | null;
  /** Razorpay always answers one; the local stand-in only when one was recorded (then it is not checked). */
  amount?: number;
  currency: string;
}

export interface PaymentsProvider {
  /** Reads only: asking twice changes nothing at Razorpay. */
  fetchPayment(id: string, signal?: AbortSignal): Promise<ProviderPayment>;
}

export type ProviderName = "stripe" | "resend" | "novu" | "google" | "slack" | "vapi" | "razorpay";
export type ProviderMode = "live" | "outbox" | "noop" | "missing";

export interface Providers {
  /** Throws ConfigError naming the variable when the key is missing outside local mode. */
  stripe(): StripeProvider;
  email(): EmailProvider;
  notify(): NotifyProvider;
  google(): GoogleOAuthProvider;
  /** Slack is optional: undefined when SLACK_WEBHOOK_URL is unset outside local mode. */
  slack(): SlackProvider | undefined;
  /** Voice calls (Vapi). */
  voice(): VoiceProvider;
  /** Payments of the shop (Razorpay). */
  payments(): PaymentsProvider;
  /** How each provider would send right now, for logs, `pnpm job:run` and diagnostics. */
  modes(): Record<ProviderName, ProviderMode>;
}
