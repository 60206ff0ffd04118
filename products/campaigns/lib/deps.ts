import type { JobContext } from "@/lib/jobs/define";
import { createRegistry, type Registry } from "@/lib/jobs/registry";
import type { MessageDeps } from "./schedule";
import { operatorClient } from "@/lib/qstash/client";

/**
 * What the campaign jobs publish and cancel with: their own env and database, and a registry of
 * the jobs they publish (a job file cannot import the app's registry, which imports it). Cancels
 * need no registry.
 */
export function campaignMessageDeps(ctx: Pick<JobContext<unknown>, "env" | "db" | "now">, registry: Registry = createRegistry([], [])): MessageDeps {
  // The run's time, not the wall clock: whether a message is too far out for QStash is measured from it.
  return { env: ctx.env, db: ctx.db, registry, client: operatorClient(ctx.env), clock: () => ctx.now };
}
