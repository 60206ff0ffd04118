import type { Novu } from "@novu/api";
import type { NovuError } from "@novu/api/models/errors";
import { ProviderError } from "../errors";
import { requestSignal, vendorError } from "./errors";
import type { NotificationTrigger, NotifyProvider } from "./types";

export const NOVU_API = "https://api.novu.co";

/**
 * In-app notifications through Novu. The SDK's default retry policy keeps trying for up to an
 * hour, far past any job's timeout: retries are ours (the next run, QStash), so it never retries.
 */
export function createNovuProvider(cfg: { apiKey: string; baseUrl: string | undefined }): NotifyProvider {
  // The SDK takes over half a second to load: it loads on the first notification, not with every CLI command.
  let sdk: { novu: Novu; errors: typeof import("@novu/api/models/errors") } | undefined;
  const load = async () => {
    if (sdk) return sdk;
    const [{ Novu: Client }, errors] = await Promise.all([import("@novu/api"), import("@novu/api/models/errors")]);
    const novu = new Client({
      secretKey: cfg.apiKey,
      serverURL: (cfg.baseUrl ?? NOVU_API).replace(/\/+$/, ""),
      retryConfig: { strategy: "none" },
      timeoutMs: 15_000,
    });
    return (sdk = { novu, errors });
  };
  return {
    async trigger(t: NotificationTrigger, signal?: AbortSignal) {
      try {
        const { novu } = await load();
        const res = await novu.trigger(
          {
            workflowId: t.workflowId,
            to: { subscriberId: t.subscriber.id, email: t.subscriber.email, firstName: t.subscriber.name },
            payload: t.payload,
            transactionId: t.transactionId,
          },
          t.transactionId,
          { signal: requestSignal(signal) },
        );
        if (!res.result.acknowledged) throw new ProviderError("Novu", `trigger not acknowledged (status ${res.result.status})`);
        return { transactionId: res.result.transactionId ?? t.transactionId };
      } catch (err) {
        if (sdk && err instanceof sdk.errors.NovuError) {
          throw vendorError("Novu", "NOVU_API_KEY", err.statusCode, novuMessage(err), err.headers.get("retry-after"), err);
        }
        if (sdk && err instanceof sdk.errors.HTTPClientError) throw vendorError("Novu", "NOVU_API_KEY", undefined, err.message, undefined, err);
        throw err;
      }
    },
  };
}

function novuMessage(err: NovuError): string {
  try {
    const body = JSON.parse(err.body) as { message?: unknown };
    if (typeof body.message === "string") return body.message;
  } catch {
    /* not JSON */
  }
  return err.message;
}
