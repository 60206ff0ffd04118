import type { Db } from "../db/types";
import type { Env } from "../env";
import { missingConfig } from "./errors";
import { createNovuProvider } from "./novu";
import { noopRecorder, outboxEmail, outboxNotify, outboxRecorder, outboxSlack } from "./outbox";
import { createResendProvider } from "./resend";
import { createSlackProvider } from "./slack";
import type { ProviderKit, ProviderMode, ProviderName, Providers } from "./types";

export type * from "./types";
export { missingConfig } from "./errors";
export { idOf } from "./outbox";
export { EMAIL_BATCH_MAX } from "./types";

export interface ProviderOptions {
  /**
   * Where a provider without a key sends. Default: the outbox table in local mode; outside local
   * mode a missing key is a ConfigError. `noop` (benchmarks) drops everything, keys or not.
   */
  sink?: "outbox" | "noop";
}

/** Built on first use: a job that never sends never needs the key, and a missing key fails only the job that needs it. */
export const once = <T>(make: () => T) => {
  let v: { value: T } | undefined;
  return () => (v ??= { value: make() }).value;
};

/**
 * The layer's providers of one deployment (email, in-app notifications, Slack: what alerts and
 * most jobs use). Products build their own vendors from `kit` (lib/products/providers.ts).
 */
export function createProviders(env: Env, db: Db, opts: ProviderOptions = {}): Providers {
  const local = env.mode === "local";
  const noop = opts.sink === "noop";
  const kit: ProviderKit = {
    env,
    standIn: noop || local,
    noop,
    record: noop ? noopRecorder : outboxRecorder(db),
    modeOf: (configured: boolean): ProviderMode => (noop ? "noop" : configured ? "live" : local ? "outbox" : "missing"),
  };
  const { standIn, record } = kit;

  const email = once(() => {
    const from = env.emailFrom;
    if (env.resend && !noop) {
      if (!from) throw missingConfig("EMAIL_FROM", "every email needs a sender, e.g. Bookings <bookings@example.com>", "a domain verified in Resend");
      return createResendProvider(env.resend, from);
    }
    if (standIn) return outboxEmail(record, from ?? "cronlayer <jobs@localhost>");
    throw missingConfig("RESEND_API_KEY", "emails go through Resend", "the Resend dashboard -> API Keys (sending access is enough)");
  });
  const notify = once(() => {
    if (env.novu && !noop) return createNovuProvider(env.novu);
    if (standIn) return outboxNotify(record);
    throw missingConfig("NOVU_API_KEY", "in-app notifications go through Novu", "the Novu dashboard -> API Keys");
  });
  const slack = once(() => {
    if (env.slack && !noop) return createSlackProvider(env.slack);
    return standIn ? outboxSlack(record) : undefined;
  });

  return {
    email,
    notify,
    slack,
    kit,
    bind: (provider) => provider,
    modes: (): Record<ProviderName, ProviderMode> => ({
      resend: kit.modeOf(Boolean(env.resend)),
      novu: kit.modeOf(Boolean(env.novu)),
      slack: kit.modeOf(Boolean(env.slack)),
    }),
  };
}
