import { randomBytes } from "node:crypto";
import { z } from "zod";
import { isPrivateHost } from "./qstash/destinations";
import { formatDuration, parseDuration } from "./time/duration";

/**
 * The one place configuration is read. `loadEnv` is pure (tests pass their own record and never
 * touch process.env); production requires what it needs and fails with one message listing every
 * problem; local mode fills the public defaults of the local stack.
 */

// Public test values of the local QStash server (shared with Upstash's own dev server).
export const LOCAL_QSTASH = {
  url: "http://127.0.0.1:8080",
  token: "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=",
  currentSigningKey: "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r",
  nextSigningKey: "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs",
} as const;
export const LOCAL_CRON_SECRET = "local-cron-secret-not-for-production";

export const optional = z.string().trim().min(1).optional();
export const isZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};
export const url = z.url({ protocol: /^https?$/ });

/** QStash's free plan: the default when QSTASH_MAX_DELAY is unset (a paid plan raises it, never lowers it). */
export const DEFAULT_MAX_DELAY_MS = 7 * 86_400_000;
/** Below this, parked messages would be published almost as soon as parked: a typo, not a plan. */
const MIN_MAX_DELAY_MS = 10 * 60_000;

const raw = z.object({
  APP_ENV: z.enum(["local", "production", "test"]).optional(),
  VERCEL_ENV: z.string().optional(),
  VERCEL_PROJECT_PRODUCTION_URL: optional,
  APP_URL: url.optional(),
  QSTASH_URL: url.optional(),
  QSTASH_TOKEN: optional,
  QSTASH_CURRENT_SIGNING_KEY: optional,
  QSTASH_NEXT_SIGNING_KEY: optional,
  /** The account's plan, whose schedule limit `pnpm qstash:schedule` enforces (default: free against the cloud, none locally). */
  QSTASH_PLAN: z.enum(["free", "payg", "none"]).optional(),
  /** The longest delay QStash accepts on this account (free 7d, pay as you go 1y): one-time messages due later wait in job_messages. */
  QSTASH_MAX_DELAY: z
    .string()
    .transform((v, ctx) => {
      const ms = parseDuration(v, { years: true });
      if (ms === undefined || !/[a-zµ]$/i.test(v.trim())) ctx.addIssue({ code: "custom", message: `must be a duration such as 7d, 1y or 30m (units s, m, h, d, y), got "${v}"` });
      else if (ms < MIN_MAX_DELAY_MS) ctx.addIssue({ code: "custom", message: `must be at least ${formatDuration(MIN_MAX_DELAY_MS)}, got "${v}"` });
      return ms ?? 0;
    })
    .optional(),
  CRON_SECRET: z.string().min(16, "must be at least 16 characters (generate one: openssl rand -hex 32)").optional(),
  SCHEDULE_PREFIX: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "letters, digits, '-', '_' and '.' only").optional(),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL").optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).optional(),
  SUPABASE_URL: url.optional(),
  SUPABASE_SERVICE_ROLE_KEY: optional,
  UPSTASH_REDIS_REST_URL: url.optional(),
  UPSTASH_REDIS_REST_TOKEN: optional,
  RESEND_API_KEY: optional,
  RESEND_BASE_URL: url.optional(),
  NOVU_API_KEY: optional,
  NOVU_BASE_URL: url.optional(),
  SLACK_WEBHOOK_URL: url.optional(),
  ALERT_EMAIL: z
    .string()
    .trim()
    .refine((v) => v.split(",").every((a) => z.email().safeParse(a.trim()).success), "must be an email address, or several separated by commas")
    .optional(),
  EMAIL_FROM: optional,
  OPS_PASSWORD: z.string().min(12, "must be at least 12 characters (generate one: openssl rand -base64 18)").optional(),
  ALERT_COOLDOWN_MINUTES: z.coerce.number().int().min(1).max(7 * 24 * 60).optional(),
  NOVU_ALERT_WORKFLOW: optional,
  NOVU_ALERT_SUBSCRIBER: optional,
  RUNS_RETENTION_DAYS: z.coerce.number().int().min(1).optional(),
  EFFECTS_RETENTION_DAYS: z.coerce.number().int().min(1).optional(),
  JOB_MESSAGES_RETENTION_DAYS: z.coerce.number().int().min(1).optional(),
  DEAD_LETTERS_RETENTION_DAYS: z.coerce.number().int().min(1).optional(),
  ALERT_INCIDENTS_RETENTION_DAYS: z.coerce.number().int().min(1).optional(),
  ROLLUPS_RETENTION_DAYS: z.coerce.number().int().min(8, "must be at least 8: the console shows 7 days").optional(),
  POSTHOG_KEY: optional,
  POSTHOG_HOST: url.optional(),
  /** The products this deployment runs (lib/products/select.ts checks the names against config/products.ts). */
  PRODUCTS: optional,
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).optional(),
  LOG_FORMAT: z.enum(["json", "pretty"]).optional(),
});

export type Mode = "local" | "production" | "test";

export interface Retention {
  runsDays: number;
  effectsDays: number;
  jobMessagesDays: number;
  deadLettersDays: number;
  alertIncidentsDays: number;
  rollupsDays: number;
}

export interface Env {
  mode: Mode;
  /** The variables as given (unset and empty ones dropped): what products read their own settings from (lib/products/env.ts). */
  source: Readonly<Record<string, string>>;
  /** PRODUCTS as given; which products run is decided where the list of products lives (config/products.ts). */
  products: string | undefined;
  appUrl: string;
  qstash: {
    url: string;
    token: string;
    currentSigningKey: string;
    nextSigningKey: string;
    plan?: "free" | "payg" | "none";
    /** QSTASH_MAX_DELAY: a one-time message due further out is parked in job_messages and published once in range. */
    maxDelayMs: number;
  };
  /** Undefined only outside production when not set: then no Bearer request is ever accepted. */
  cronSecret: string | undefined;
  schedulePrefix: string;
  database: { kind: "postgres"; url: string; poolMax: number } | { kind: "supabase"; url: string; serviceRoleKey: string };
  redis: { url: string; token: string } | undefined;
  resend: { apiKey: string; baseUrl: string | undefined } | undefined;
  novu: { apiKey: string; baseUrl: string | undefined } | undefined;
  slack: { webhookUrl: string } | undefined;
  /** Who receives the watchdog's alerts; empty when ALERT_EMAIL is unset. */
  alertEmails: string[];
  /** The operations console (/ops): its password (OPS_PASSWORD, else CRON_SECRET); undefined: sign-in is closed. */
  ops: { password: string | undefined };
  /** Failure alerts: one per job per incident, again only after the cooldown; Novu when a workflow is named. */
  alerts: { cooldownMs: number; novuWorkflow: string | undefined; novuSubscriber: string };
  /** Sender of every email; required in production as soon as a job sends one. */
  emailFrom: string | undefined;
  /** How many days the layer's retention job keeps each table's finished rows (docs/configuration.md). */
  retention: Retention;
  /** Product events (job_completed); off when POSTHOG_KEY is unset. */
  posthog: { key: string; host: string } | undefined;
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
  /** json: one JSON object per line (log drains); pretty: one short line per run, for a terminal. */
  logFormat: "json" | "pretty";
}

export class EnvError extends Error {
  override name = "EnvError";
  constructor(
    readonly problems: string[],
    opts: { declared?: boolean } = {},
  ) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n") +
        "\nSet these in the Vercel project (Settings -> Environment Variables) or in .env.local; see .env.example." +
        (opts.declared ? "" : "\nWithout APP_ENV this is a production server. On your own machine, `pnpm dev` runs the local stack; scripts against it take APP_ENV=local."),
    );
  }

  /** The variables named by the problems: safe to tell anyone (no values, no hints). */
  get variables(): string[] {
    const names = this.problems.map((p) => /^[A-Z][A-Z0-9_]*/.exec(p)?.[0]).map((v) => (v === "DATABASE" ? "DATABASE_URL or SUPABASE_URL" : v));
    return [...new Set(names.filter((v): v is string => Boolean(v)))];
  }
}

const HINTS: Record<string, string> = {
  APP_URL: "the public https URL of this deployment, e.g. https://jobs.example.com (signatures are bound to it)",
  QSTASH_TOKEN: "Upstash console -> QStash -> Request builder / env",
  QSTASH_CURRENT_SIGNING_KEY: "Upstash console -> QStash -> Signing keys (current)",
  QSTASH_NEXT_SIGNING_KEY: "Upstash console -> QStash -> Signing keys (next)",
  CRON_SECRET: "a random string of 16+ characters (openssl rand -hex 32); Vercel sends it to the cron",
  SCHEDULE_PREFIX: "a name per environment, e.g. prod or staging; schedule ids are <prefix>-<job>",
  DATABASE: "set SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY, or DATABASE_URL",
};

/**
 * Local mode is opt-in: only `APP_ENV=local` (set by `pnpm dev`, localhost only) or `APP_ENV=test` (the tests, never a public URL) get
 * the well-known local keys, secret and provider stand-ins. Anything else is production, whatever
 * the platform: `next start` on a VM, Fly, Render or Docker must never accept the public local keys.
 */
export function modeOf(source: Record<string, string | undefined>): Mode {
  const declared = source.APP_ENV;
  return declared === "local" || declared === "test" ? declared : "production";
}

/** Whether this env says which deployment it is (an explicit APP_ENV, or Vercel's own VERCEL_ENV). */
export function isDeclared(source: Record<string, string | undefined>): boolean {
  return Boolean(source.APP_ENV) || source.VERCEL_ENV === "production" || source.VERCEL_ENV === "preview";
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);
/** Whether a URL (http, postgres, ...) points at this machine only. */
export function isLoopback(u: string): boolean {
  try {
    const host = new URL(u).hostname;
    return LOOPBACK.has(host) || host.endsWith(".localhost");
  } catch {
    return false;
  }
}

/**
 * Whether other people can reach a URL: not this machine, not a private network, not a name
 * reserved for tests and documentation (RFC 2606, RFC 6761), which no deployment can own.
 */
export function isPublicUrl(u: string): boolean {
  let host: string;
  try {
    host = new URL(u).hostname.toLowerCase();
  } catch {
    return true; // unreadable: assume the worst
  }
  if (isPrivateHost(host)) return false;
  return !/(^|\.)(test|example|invalid|localhost)$/.test(host) && !/(^|\.)example\.(com|net|org)$/.test(host);
}

/**
 * Parses field by field, so one malformed value is reported once and the other fields still count
 * as set (a whole-object parse that fails would leave nothing to run the required checks against).
 */
function parseFields(source: Record<string, string | undefined>): { data: Partial<z.infer<typeof raw>>; problems: string[]; bad: Set<string> } {
  const data: Record<string, unknown> = {};
  const problems: string[] = [];
  const bad = new Set<string>();
  for (const [name, schema] of Object.entries(raw.shape)) {
    const r = (schema as z.ZodType).safeParse(source[name]);
    if (r.success) data[name] = r.data;
    else {
      bad.add(name);
      for (const i of r.error.issues) problems.push(`${name}: ${i.message}`);
    }
  }
  return { data: data as Partial<z.infer<typeof raw>>, problems, bad };
}

/** CRONLAYER_FANOUT=inline: this process runs its jobs' fan-outs itself (lib/cli/in-process.ts). */
export const isInlineRunner = (source: Record<string, string | undefined>): boolean => source.CRONLAYER_FANOUT?.trim().toLowerCase() === "inline";

/** A signing key nobody holds: a request signed with anything fails to verify. */
const unverifiable = () => `sig_unset_${randomBytes(24).toString("hex")}`;

export function loadEnv(source: Record<string, string | undefined>): Env {
  // Empty strings are how unset variables arrive from many dashboards and .env files.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const { data: e, problems, bad } = parseFields(cleaned);
  const mode = modeOf(cleaned);
  const prod = mode === "production";
  const need = (name: keyof typeof HINTS, value: unknown) => {
    // A value that is set but malformed was reported already; "required" would be a second, wrong message.
    if (prod && !value && !bad.has(name)) problems.push(`${name} is required in production: ${HINTS[name]}`);
  };
  const vercelUrl = e.VERCEL_PROJECT_PRODUCTION_URL ? `https://${e.VERCEL_PROJECT_PRODUCTION_URL}` : undefined;
  const appUrl = e.APP_URL ?? vercelUrl;
  need("APP_URL", appUrl);
  // A runner that sends in its own process (a container scheduler, docs/containers.md) receives no
  // request and publishes no fan-out: it needs neither QStash's keys nor the cron secret.
  const inline = isInlineRunner(cleaned);
  if (!inline) {
    need("QSTASH_TOKEN", e.QSTASH_TOKEN);
    need("QSTASH_CURRENT_SIGNING_KEY", e.QSTASH_CURRENT_SIGNING_KEY);
    need("QSTASH_NEXT_SIGNING_KEY", e.QSTASH_NEXT_SIGNING_KEY);
    need("CRON_SECRET", e.CRON_SECRET);
    need("SCHEDULE_PREFIX", e.SCHEDULE_PREFIX);
  }
  if (inline && (cleaned.VERCEL_ENV === "production" || cleaned.VERCEL_ENV === "preview")) {
    problems.push("CRONLAYER_FANOUT=inline is for the runner in a container (pnpm job:run, deploy/); on Vercel the fan-out goes through QStash: remove CRONLAYER_FANOUT");
  }
  const supabase = e.SUPABASE_URL && e.SUPABASE_SERVICE_ROLE_KEY;
  need("DATABASE", supabase || e.DATABASE_URL || bad.has("DATABASE_URL") || bad.has("SUPABASE_URL"));
  if (e.SUPABASE_URL && !e.SUPABASE_SERVICE_ROLE_KEY) problems.push("SUPABASE_SERVICE_ROLE_KEY is required when SUPABASE_URL is set");
  if (Boolean(e.UPSTASH_REDIS_REST_URL) !== Boolean(e.UPSTASH_REDIS_REST_TOKEN)) {
    problems.push("UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN go together: set both or neither");
  }
  if (prod && appUrl && !appUrl.startsWith("https://")) problems.push("APP_URL must be https in production (QStash delivers only to public URLs)");
  if (mode === "local" && appUrl && !isLoopback(appUrl)) {
    problems.push(`APP_ENV=local serves only this machine (its keys and secret are public), but APP_URL is ${appUrl}: set APP_ENV=production and the production values, or use a localhost APP_URL`);
  }
  if (mode === "test" && appUrl && isPublicUrl(appUrl)) {
    problems.push(`APP_ENV=test uses the public local signing keys and unsubscribe secret, so it never serves a public URL, but APP_URL is ${appUrl}: set APP_ENV=production and the production values, or use a localhost, private-network or reserved test name (*.test, *.example, example.com)`);
  }
  if (mode !== "production" && (cleaned.VERCEL_ENV === "production" || cleaned.VERCEL_ENV === "preview")) {
    problems.push(`APP_ENV=${mode} uses public keys and secrets, but VERCEL_ENV=${cleaned.VERCEL_ENV} says this is a Vercel deployment, reachable whatever APP_URL says: set APP_ENV=production (or remove APP_ENV) and the production values`);
  }
  if (problems.length) throw new EnvError(problems, { declared: isDeclared(cleaned) });

  return {
    mode,
    source: Object.freeze(cleaned as Record<string, string>),
    products: e.PRODUCTS,
    appUrl: (appUrl ?? "http://localhost:3000").replace(/\/+$/, ""),
    qstash: {
      url: e.QSTASH_URL ?? (prod ? "https://qstash.upstash.io" : LOCAL_QSTASH.url),
      // Unset only for an inline runner in production: never the public local keys there, so no signature verifies.
      token: e.QSTASH_TOKEN ?? (prod ? "" : LOCAL_QSTASH.token),
      currentSigningKey: e.QSTASH_CURRENT_SIGNING_KEY ?? (prod ? unverifiable() : LOCAL_QSTASH.currentSigningKey),
      nextSigningKey: e.QSTASH_NEXT_SIGNING_KEY ?? (prod ? unverifiable() : LOCAL_QSTASH.nextSigningKey),
      plan: e.QSTASH_PLAN,
      maxDelayMs: e.QSTASH_MAX_DELAY ?? DEFAULT_MAX_DELAY_MS,
    },
    cronSecret: e.CRON_SECRET ?? (mode === "local" ? LOCAL_CRON_SECRET : undefined),
    schedulePrefix: e.SCHEDULE_PREFIX ?? (mode === "local" ? "local" : "test"),
    database: supabase
      ? { kind: "supabase", url: e.SUPABASE_URL!, serviceRoleKey: e.SUPABASE_SERVICE_ROLE_KEY! }
      : { kind: "postgres", url: e.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres", poolMax: e.DATABASE_POOL_MAX ?? 5 },
    redis: e.UPSTASH_REDIS_REST_URL ? { url: e.UPSTASH_REDIS_REST_URL, token: e.UPSTASH_REDIS_REST_TOKEN! } : undefined,
    resend: e.RESEND_API_KEY ? { apiKey: e.RESEND_API_KEY, baseUrl: e.RESEND_BASE_URL } : undefined,
    novu: e.NOVU_API_KEY ? { apiKey: e.NOVU_API_KEY, baseUrl: e.NOVU_BASE_URL } : undefined,
    slack: e.SLACK_WEBHOOK_URL ? { webhookUrl: e.SLACK_WEBHOOK_URL } : undefined,
    alertEmails: e.ALERT_EMAIL ? e.ALERT_EMAIL.split(",").map((a) => a.trim()) : [],
    ops: { password: e.OPS_PASSWORD ?? e.CRON_SECRET ?? (mode === "local" ? LOCAL_CRON_SECRET : undefined) },
    alerts: { cooldownMs: (e.ALERT_COOLDOWN_MINUTES ?? 60) * 60_000, novuWorkflow: e.NOVU_ALERT_WORKFLOW, novuSubscriber: e.NOVU_ALERT_SUBSCRIBER ?? "cronlayer-on-call" },
    emailFrom: e.EMAIL_FROM ?? (mode === "local" ? "cronlayer <jobs@localhost>" : undefined),
    retention: {
      runsDays: e.RUNS_RETENTION_DAYS ?? 90,
      effectsDays: e.EFFECTS_RETENTION_DAYS ?? 30,
      jobMessagesDays: e.JOB_MESSAGES_RETENTION_DAYS ?? 30,
      deadLettersDays: e.DEAD_LETTERS_RETENTION_DAYS ?? 90,
      alertIncidentsDays: e.ALERT_INCIDENTS_RETENTION_DAYS ?? 90,
      rollupsDays: e.ROLLUPS_RETENTION_DAYS ?? 400,
    },
    posthog: e.POSTHOG_KEY ? { key: e.POSTHOG_KEY, host: (e.POSTHOG_HOST ?? "https://us.i.posthog.com").replace(/\/+$/, "") } : undefined,
    logLevel: e.LOG_LEVEL ?? (mode === "test" ? "silent" : "info"),
    logFormat: e.LOG_FORMAT ?? "json",
  };
}
