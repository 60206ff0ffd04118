import { AsyncLocalStorage } from "node:async_hooks";
import type Stripe from "stripe";
import { ProviderError } from "@/lib/errors";
import { vendorError } from "@/lib/providers/errors";
import type { Payout, PayoutLookup, PayoutRequest, StripeProvider, Transfer, TransferLookup, TransferRequest } from "./types";

/**
 * The SDK takes no AbortSignal per request, so the caller's rides along with the call into the
 * SDK's fetch, which joins it to the SDK's own timeout signal.
 */
const callSignal = new AsyncLocalStorage<AbortSignal | undefined>();

function fetchWithCallSignal(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const signal = callSignal.getStore();
  if (!signal) return fetch(input, init);
  return fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
}

/**
 * Stripe Connect through the official SDK. `apiBase` (STRIPE_API_BASE) points it at stripe-mock or
 * a local stand-in. The SDK retries nothing: a retry is the next run's, with the same idempotency key.
 */
export function createStripeProvider(cfg: { secretKey: string; apiBase: string | undefined }): StripeProvider {
  const base = cfg.apiBase ? new URL(cfg.apiBase) : undefined;
  // The SDK loads on first use: it weighs on every CLI command and cold start that never pays anyone.
  let sdk: { Stripe: typeof Stripe; stripe: Stripe } | undefined;
  const load = async () => {
    if (sdk) return sdk;
    const { default: Sdk } = await import("stripe");
    return (sdk = { Stripe: Sdk, stripe: client(Sdk) });
  };
  const fromStripe = (err: unknown) => stripeError(err, sdk?.Stripe);
  const client = (Stripe: typeof import("stripe").default) => new Stripe(cfg.secretKey, {
    maxNetworkRetries: 0,
    timeout: 20_000,
    telemetry: false,
    // Resolved per call, so a fetch installed later (msw in tests, instrumentation) is honoured.
    httpClient: Stripe.createFetchHttpClient(fetchWithCallSignal),
    ...(base
      ? { host: base.hostname, port: base.port || (base.protocol === "http:" ? 80 : 443), protocol: base.protocol === "http:" ? ("http" as const) : ("https" as const) }
      : {}),
  });
  return {
    async createTransfer(t: TransferRequest, signal?: AbortSignal) {
      // Money never starts moving for a run that has already stopped.
      signal?.throwIfAborted();
      try {
        const { stripe } = await load();
        const tr = await callSignal.run(signal, () => stripe.transfers.create(
          {
            amount: t.amount,
            currency: t.currency,
            destination: t.destination,
            source_transaction: t.sourceTransaction,
            transfer_group: t.transferGroup,
            metadata: t.metadata,
          },
          { idempotencyKey: t.idempotencyKey },
        ));
        return { id: tr.id };
      } catch (err) {
        throw fromStripe(err);
      }
    },
    async createPayout(p: PayoutRequest, signal?: AbortSignal) {
      signal?.throwIfAborted();
      try {
        const { stripe } = await load();
        const po = await callSignal.run(signal, () =>
          stripe.payouts.create({ amount: p.amount, currency: p.currency, metadata: p.metadata }, { idempotencyKey: p.idempotencyKey, stripeAccount: p.account }),
        );
        return payoutOf(po);
      } catch (err) {
        throw fromStripe(err);
      }
    },
    async findTransfer(q: TransferLookup, signal?: AbortSignal): Promise<Transfer | undefined> {
      signal?.throwIfAborted();
      try {
        const { stripe } = await load();
        return await callSignal.run(signal, async () => {
          for await (const tr of stripe.transfers.list({ transfer_group: q.transferGroup, limit: 100 })) {
            if (matches(tr.metadata, q.metadata)) return { id: tr.id };
          }
          return undefined;
        });
      } catch (err) {
        throw fromStripe(err);
      }
    },
    async findPayout(q: PayoutLookup, signal?: AbortSignal): Promise<Payout | undefined> {
      signal?.throwIfAborted();
      try {
        const { stripe } = await load();
        return await callSignal.run(signal, async () => {
          const since = Math.floor(q.createdSince.getTime() / 1000);
          for await (const po of stripe.payouts.list({ created: { gte: since }, limit: 100 }, { stripeAccount: q.account })) {
            if (matches(po.metadata, q.metadata)) return payoutOf(po);
          }
          return undefined;
        });
      } catch (err) {
        throw fromStripe(err);
      }
    },
  };
}

const payoutOf = (po: Stripe.Payout): Payout => ({ id: po.id, arrivalDate: new Date(po.arrival_date * 1000).toISOString().slice(0, 10) });

const matches = (have: Stripe.Metadata | null, want: Record<string, string>) => Object.entries(want).every(([k, v]) => have?.[k] === v);

function stripeError(err: unknown, Sdk: typeof Stripe | undefined): Error {
  if (Sdk && err instanceof Sdk.errors.StripeError) {
    const code = err.code ? ` (${err.code})` : "";
    return vendorError("Stripe", "STRIPE_SECRET_KEY", err.statusCode, `${err.message}${code}`, err.headers?.["retry-after"], err);
  }
  return new ProviderError("Stripe", err instanceof Error ? err.message : String(err), undefined, { cause: err });
}
