/** The marketplace's vendors as its jobs see them: Stripe (money) and Google OAuth (calendar tokens). */

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

