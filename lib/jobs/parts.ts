import type { Db } from "../db/types";
import type { Env } from "../env";
import type { JobContext } from "./define";
import type { ProviderMode, Providers } from "../providers/types";

/** One upkeep step that keep-alive runs daily for a product (e.g. refreshing OAuth tokens). */
export interface MaintenanceStep {
  /** The key of its stats in keep-alive's run. */
  name: string;
  /** How alerts name it, e.g. "Google Calendar tokens". */
  title: string;
  /** What went wrong goes in `problems` (the day's alert); `fatal` fails keep-alive's run at the end. */
  run(ctx: JobContext<unknown>): Promise<{ stats: unknown; problems: string[]; fatal?: unknown }>;
}

/** `GET /api/diagnostics?<param>=<value>`: a product's own view, behind the same Bearer. */
export interface DiagnosticsSection {
  param: string;
  describe: string;
  answer(deps: { db: Db; env: Env }, value: string): Promise<{ status: number; body: unknown }>;
}

/** What the layer runs for a product besides its jobs: the parts its registry carries. */
export interface ProductParts {
  name: string;
  title: string;
  /** Its jobs (the console's product column); a registry built without products has none. */
  jobs?: readonly { name: string }[];
  maintenance: readonly MaintenanceStep[];
  diagnostics: readonly DiagnosticsSection[];
  /** The product's vendors and how each would act now. */
  providerModes(providers: Providers): Record<string, ProviderMode>;
  /** Every problem with the product's variables in this env (none: it can run). */
  envProblems(env: Env): string[];
}
