import { idOf, type OutboxRecorder } from "@/lib/providers";
import type { GoogleOAuthProvider, StripeProvider } from "./types";

export function outboxStripe(record: OutboxRecorder): StripeProvider {
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

export function outboxGoogle(record: OutboxRecorder): GoogleOAuthProvider {
  return {
    async refresh({ refreshToken, key }, signal) {
      // The refresh token is a secret: the outbox shows which one, never the token itself.
      await record("google", key, { grant_type: "refresh_token", refresh_token: `…${refreshToken.slice(-4)}` }, signal);
      return { ok: true, accessToken: idOf("ya29", key), expiresInSeconds: 3600 };
    },
  };
}

