import { z } from "zod";
import type { Mode } from "../env";

/**
 * A product API's own Bearer key (FORMS_API_KEY, CAMPAIGNS_API_KEY). The app that calls the API
 * holds this key, never CRON_SECRET, which can run every job. Outside production an unset key is the
 * product's public local value (local and test mode never serve a public URL: lib/env.ts); production
 * has no default and refuses the public value.
 */
export interface ApiKeySpec {
  /** The variable, e.g. FORMS_API_KEY. */
  variable: string;
  /** What it opens, e.g. "the forms API". */
  api: string;
  /** The public value of local and test mode. */
  localValue: string;
}

/** The variable's schema in a product's env: as strong as CRON_SECRET. */
export const apiKeyVariable = z.string().min(16, "must be at least 16 characters (generate one: openssl rand -hex 32)").optional();

/** The key an API takes, or why it takes none (the variable named first, as EnvError's problems are). */
export type ApiKey = { ok: true; key: string } | { ok: false; problem: string };

export function apiKeyOf(spec: ApiKeySpec, value: string | undefined, mode: Mode): ApiKey {
  if (mode !== "production") return { ok: true, key: value ?? spec.localValue };
  if (!value) return { ok: false, problem: `${spec.variable} is not set: ${spec.api} refuses every request until it is (openssl rand -hex 32; its callers send Authorization: Bearer <${spec.variable}>)` };
  if (value === spec.localValue) return { ok: false, problem: `${spec.variable} is the public local value, which a production server refuses: set a secret of its own (openssl rand -hex 32)` };
  return { ok: true, key: value };
}
