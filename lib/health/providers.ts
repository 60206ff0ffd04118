import type { RunDeps } from "../jobs/run";
import { createProviders } from "../providers";
import { describeOutboxEntry, recentOutbox } from "../providers/outbox";

/**
 * How each provider would act (live, outbox, missing) and, where any records to the outbox, what it
 * recorded lately: locally, the answer to "what would have been sent?".
 */
export async function providerSummary(deps: RunDeps) {
  const providers = deps.providers ?? createProviders(deps.env, deps.db);
  const modes = Object.assign({}, providers.modes(), ...deps.registry.products.map((p) => p.providerModes(providers))) as Record<string, string>;
  if (!Object.values(modes).includes("outbox")) return { modes };
  try {
    const recent = await recentOutbox(deps.db, { since: new Date(Date.now() - 24 * 3600_000), limit: 10 });
    return { modes, outbox: { recent: recent.map(describeOutboxEntry) } };
  } catch (err) {
    return { modes, outbox: { error: (err as Error).message } };
  }
}
