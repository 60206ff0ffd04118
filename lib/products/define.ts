import type { ApiKeySpec } from "../auth/api-key";
import type { JobDefinition } from "../jobs/define";
import type { ScheduleEntry } from "../jobs/schedules";
import type { ProductEnv } from "./env";
import type { DiagnosticsSection, MaintenanceStep, ProductParts } from "../jobs/parts";
import type { ProductProviders } from "./providers";

/** A command of the product's own, run as `pnpm product <name>` (or a package.json alias). */
export interface ProductCommand {
  name: string;
  description: string;
  /** [flags, description] as commander takes them, e.g. ["--campaign <id>", "only this campaign"]. */
  options: readonly (readonly [string, string])[];
  /** The command's module, loaded only when it runs; answers an exit code. */
  load(): Promise<{ run(ctx: never, opts: Record<string, unknown>): Promise<number> }>;
}

/** A seed adds realistic rows for this product's jobs to find under `pnpm dev`; it answers lines to print. */
export type ProductSeed = (tx: import("postgres").TransactionSql, now: Date) => Promise<string[]>;

export interface Product extends ProductParts {
  summary: string;
  jobs: readonly JobDefinition[];
  schedules: readonly ScheduleEntry[];
  env: ProductEnv<unknown> | undefined;
  seed: ProductSeed | undefined;
  commands: readonly ProductCommand[];
  /** The product's HTTP API and the key it takes, for `pnpm dev`'s banner. */
  api: ProductApi | undefined;
  /** The vendors and the env variables it needs, for the README's table and `pnpm qstash:schedule`'s plan. */
  needs: { vendors: readonly string[]; variables: readonly string[] };
}

/** A product API under app/api/<path> that takes its own Bearer key (lib/auth/api-key.ts). */
export interface ProductApi {
  path: string;
  key: ApiKeySpec;
}

const NAME = /^[a-z][a-z0-9-]*$/;

/**
 * A product as one value: the registry, schedules, env validation, seed, console and docs index
 * are composed from the products a deployment enables (config/products.ts, PRODUCTS).
 */
export function defineProduct(p: {
  name: string;
  title: string;
  summary: string;
  jobs: readonly JobDefinition[];
  schedules?: readonly ScheduleEntry[];
  env?: ProductEnv<unknown>;
  providers?: ProductProviders<Record<string, () => object | undefined>>;
  /** Vendors beyond the layer's (Resend, Novu, Slack) that this product's jobs reach, for the docs. */
  vendors?: readonly string[];
  seed?: ProductSeed;
  maintenance?: readonly MaintenanceStep[];
  diagnostics?: readonly DiagnosticsSection[];
  commands?: readonly ProductCommand[];
  api?: ProductApi;
}): Product {
  if (!NAME.test(p.name)) throw new Error(`Product name "${p.name}" must be lower-case letters, digits and '-': it is what PRODUCTS lists.`);
  const own = new Set(p.jobs.map((j) => j.name));
  for (const s of p.schedules ?? []) {
    if (!own.has(s.job)) throw new Error(`Product ${p.name} schedules "${s.job}", which is not one of its jobs (${[...own].join(", ")}).`);
  }
  if (p.env && p.env.product !== p.name) throw new Error(`Product ${p.name} declares the env of product ${p.env.product}.`);
  const providers = p.providers;
  return {
    name: p.name,
    title: p.title,
    summary: p.summary,
    jobs: p.jobs,
    schedules: p.schedules ?? [],
    env: p.env,
    seed: p.seed,
    commands: p.commands ?? [],
    api: p.api,
    maintenance: p.maintenance ?? [],
    diagnostics: p.diagnostics ?? [],
    providerModes: (all) => (providers ? providers.modes(all) : {}),
    envProblems: (env) => (p.env ? p.env.problems(env.source, env.mode) : []),
    needs: { vendors: p.vendors ?? [], variables: p.env?.variables ?? [] },
  };
}
