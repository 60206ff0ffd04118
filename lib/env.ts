import { z } from "zod";

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

const optional = z.string().trim().min(1).optional();
const url = z.url({ protocol: /^https?$/ });

const raw = z.object({
  APP_ENV: z.enum(["local", "production", "test"]).optional(),
  VERCEL_ENV: z.string().optional(),
  VERCEL_PROJECT_PRODUCTION_URL: optional,
  APP_URL: url.optional(),
  QSTASH_URL: url.optional(),
  QSTASH_TOKEN: optional,
  QSTASH_CURRENT_SIGNING_KEY: optional,
  QSTASH_NEXT_SIGNING_KEY: optional,
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
  STRIPE_SECRET_KEY: optional,
  STRIPE_API_BASE: url.optional(),
  GOOGLE_CLIENT_ID: optional,
  GOOGLE_CLIENT_SECRET: optional,
  GOOGLE_TOKEN_URL: url.optional(),
  SLACK_WEBHOOK_URL: url.optional(),
  ALERT_EMAIL: z
    .string()
    .trim()
    .refine((v) => v.split(",").every((a) => z.email().safeParse(a.trim()).success), "must be an email address, or several separated by commas")
    .optional(),
  EMAIL_FROM: optional,
  TRANSFER_HOLD_DAYS: z.coerce.number().int().min(0).max(90).optional(),
  MIN_PAYOUT_AMOUNT: z.coerce.number().int().min(1).optional(),
  AUDIT_LOG_RETENTION_DAYS: z.coerce.number().int().min(1).optional(),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).optional(),
});

export type Mode = "local" | "production" | "test";

export interface Env {
  mode: Mode;
  appUrl: string;
  qstash: { url: string; token: string; currentSigningKey: string; nextSigningKey: string };
  /** Undefined only outside production when not set: then no Bearer request is ever accepted. */
  cronSecret: string | undefined;
  schedulePrefix: string;
  database: { kind: "postgres"; url: string; poolMax: number } | { kind: "supabase"; url: string; serviceRoleKey: string };
  redis: { url: string; token: string } | undefined;
  resend: { apiKey: string; baseUrl: string | undefined } | undefined;
  novu: { apiKey: string; baseUrl: string | undefined } | undefined;
  /** `apiBase` points the Stripe SDK elsewhere (stripe-mock, a local stand-in); unset: api.stripe.com. */
  stripe: { secretKey: string; apiBase: string | undefined } | undefined;
  google: { clientId: string; clientSecret: string; tokenUrl: string } | undefined;
  slack: { webhookUrl: string } | undefined;
  /** Who receives the watchdog's alerts; empty when ALERT_EMAIL is unset. */
  alertEmails: string[];
  /** Sender of every email; required in production as soon as a job sends one. */
  emailFrom: string | undefined;
  marketplace: { transferHoldDays: number; minPayoutAmount: number; auditLogRetentionDays: number };
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
}

export class EnvError extends Error {
  override name = "EnvError";
  constructor(readonly problems: string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n") +
        "\nSet these in the Vercel project (Settings -> Environment Variables) or in .env.local; see .env.example.",
    );
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

export function modeOf(source: Record<string, string | undefined>): Mode {
  if (source.APP_ENV) return source.APP_ENV as Mode;
  return source.VERCEL_ENV === "production" || source.VERCEL_ENV === "preview" ? "production" : "local";
}

export function loadEnv(source: Record<string, string | undefined>): Env {
  // Empty strings are how unset variables arrive from many dashboards and .env files.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = raw.safeParse(cleaned);
  const problems: string[] = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  const e = parsed.success ? parsed.data : ({} as z.infer<typeof raw>);
  const mode = modeOf(cleaned);
  const prod = mode === "production";
  const need = (name: keyof typeof HINTS, value: unknown) => {
    if (prod && !value) problems.push(`${name} is required in production: ${HINTS[name]}`);
  };
  const vercelUrl = e.VERCEL_PROJECT_PRODUCTION_URL ? `https://${e.VERCEL_PROJECT_PRODUCTION_URL}` : undefined;
  const appUrl = e.APP_URL ?? vercelUrl;
  need("APP_URL", appUrl);
  need("QSTASH_TOKEN", e.QSTASH_TOKEN);
  need("QSTASH_CURRENT_SIGNING_KEY", e.QSTASH_CURRENT_SIGNING_KEY);
  need("QSTASH_NEXT_SIGNING_KEY", e.QSTASH_NEXT_SIGNING_KEY);
  need("CRON_SECRET", e.CRON_SECRET);
  need("SCHEDULE_PREFIX", e.SCHEDULE_PREFIX);
  const supabase = e.SUPABASE_URL && e.SUPABASE_SERVICE_ROLE_KEY;
  need("DATABASE", supabase || e.DATABASE_URL);
  if (e.SUPABASE_URL && !e.SUPABASE_SERVICE_ROLE_KEY) problems.push("SUPABASE_SERVICE_ROLE_KEY is required when SUPABASE_URL is set");
  if (Boolean(e.UPSTASH_REDIS_REST_URL) !== Boolean(e.UPSTASH_REDIS_REST_TOKEN)) {
    problems.push("UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN go together: set both or neither");
  }
  if (Boolean(e.GOOGLE_CLIENT_ID) !== Boolean(e.GOOGLE_CLIENT_SECRET)) {
    problems.push("GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET go together: set both or neither (Google Cloud console -> APIs & Services -> Credentials)");
  }
  if (prod && appUrl && !appUrl.startsWith("https://")) problems.push("APP_URL must be https in production (QStash delivers only to public URLs)");
  if (problems.length) throw new EnvError(problems);

  return {
    mode,
    appUrl: (appUrl ?? "http://localhost:3000").replace(/\/+$/, ""),
    qstash: {
      url: e.QSTASH_URL ?? (prod ? "https://qstash.upstash.io" : LOCAL_QSTASH.url),
      token: e.QSTASH_TOKEN ?? LOCAL_QSTASH.token,
      currentSigningKey: e.QSTASH_CURRENT_SIGNING_KEY ?? LOCAL_QSTASH.currentSigningKey,
      nextSigningKey: e.QSTASH_NEXT_SIGNING_KEY ?? LOCAL_QSTASH.nextSigningKey,
    },
    cronSecret: e.CRON_SECRET ?? (mode === "local" ? LOCAL_CRON_SECRET : undefined),
    schedulePrefix: e.SCHEDULE_PREFIX ?? (mode === "local" ? "local" : "test"),
    database: supabase
      ? { kind: "supabase", url: e.SUPABASE_URL!, serviceRoleKey: e.SUPABASE_SERVICE_ROLE_KEY! }
      : { kind: "postgres", url: e.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres", poolMax: e.DATABASE_POOL_MAX ?? 5 },
    redis: e.UPSTASH_REDIS_REST_URL ? { url: e.UPSTASH_REDIS_REST_URL, token: e.UPSTASH_REDIS_REST_TOKEN! } : undefined,
    resend: e.RESEND_API_KEY ? { apiKey: e.RESEND_API_KEY, baseUrl: e.RESEND_BASE_URL } : undefined,
    novu: e.NOVU_API_KEY ? { apiKey: e.NOVU_API_KEY, baseUrl: e.NOVU_BASE_URL } : undefined,
    stripe: e.STRIPE_SECRET_KEY ? { secretKey: e.STRIPE_SECRET_KEY, apiBase: e.STRIPE_API_BASE } : undefined,
    google:
      e.GOOGLE_CLIENT_ID && e.GOOGLE_CLIENT_SECRET
        ? { clientId: e.GOOGLE_CLIENT_ID, clientSecret: e.GOOGLE_CLIENT_SECRET, tokenUrl: e.GOOGLE_TOKEN_URL ?? "https://oauth2.googleapis.com/token" }
        : undefined,
    slack: e.SLACK_WEBHOOK_URL ? { webhookUrl: e.SLACK_WEBHOOK_URL } : undefined,
    alertEmails: e.ALERT_EMAIL ? e.ALERT_EMAIL.split(",").map((a) => a.trim()) : [],
    emailFrom: e.EMAIL_FROM ?? (mode === "local" ? "cronlayer <jobs@localhost>" : undefined),
    marketplace: {
      transferHoldDays: e.TRANSFER_HOLD_DAYS ?? 7,
      minPayoutAmount: e.MIN_PAYOUT_AMOUNT ?? 5000,
      auditLogRetentionDays: e.AUDIT_LOG_RETENTION_DAYS ?? 90,
    },
    logLevel: e.LOG_LEVEL ?? (mode === "test" ? "silent" : "info"),
  };
}
