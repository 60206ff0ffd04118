import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { bodyHash, signJwt, type QStashClaims } from "../../dev/qstash/sign";
import { createDeps } from "../../lib/deps";
import { loadEnv } from "../../lib/env";
import type { JobDefinition } from "../../lib/jobs/define";
import { createRegistry } from "../../lib/jobs/registry";
import type { RunDeps } from "../../lib/jobs/run";
import type { ScheduleEntry } from "../../lib/jobs/schedules";
import { testDatabaseUrl } from "./db";

export const APP_URL = "https://jobs.example.test";
export const KEYS = { current: "sig_test_current_key_0123456789", next: "sig_test_next_key_9876543210" };
export const CRON_SECRET = "test-cron-secret-0123456789";

/** Test env as production would see it, pointed at the real test database. */
export function testEnv(overrides: Record<string, string | undefined> = {}) {
  return loadEnv({
    APP_ENV: "test",
    APP_URL,
    QSTASH_URL: "http://127.0.0.1:1",
    QSTASH_TOKEN: "test-token",
    QSTASH_CURRENT_SIGNING_KEY: KEYS.current,
    QSTASH_NEXT_SIGNING_KEY: KEYS.next,
    CRON_SECRET,
    SCHEDULE_PREFIX: "test",
    DATABASE_URL: testDatabaseUrl(),
    ...overrides,
  });
}

export function testDeps(jobs: JobDefinition[], schedules: ScheduleEntry[] = [], envOverrides: Record<string, string | undefined> = {}): RunDeps {
  return createDeps(testEnv(envOverrides), createRegistry(jobs, schedules));
}

export const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** A POST as QStash delivers it: signed for real, for the job's public URL. */
export function qstashRequest(
  path: string,
  body: string,
  opts: { key?: string; messageId?: string; retried?: number; scheduleId?: string; url?: string; claims?: Partial<QStashClaims>; signature?: string } = {},
): Request {
  const url = opts.url ?? `${APP_URL}${path}`;
  const signature = opts.signature ?? signJwt(claimsFor(url, body, opts.claims), opts.key ?? KEYS.current);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "upstash-signature": signature,
    "upstash-message-id": opts.messageId ?? `msg_${randomUUID()}`,
    "upstash-retried": String(opts.retried ?? 0),
    "user-agent": "Upstash-QStash",
  };
  if (opts.scheduleId) headers["upstash-schedule-id"] = opts.scheduleId;
  // The app sees its own host (e.g. a Vercel deployment URL), not necessarily APP_URL.
  return new Request(`http://127.0.0.1:3000${path}`, { method: "POST", headers, body });
}

/** The claims real QStash signs; an override set to undefined leaves that claim out. */
export function claimsFor(url: string, body: string, overrides: Partial<QStashClaims> = {}): QStashClaims {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { iss: "Upstash", sub: url, iat: now, nbf: now, exp: now + 300, jti: `jwt_${randomUUID()}`, body: bodyHash(body), ...overrides };
  for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
  return claims as QStashClaims;
}

export function bearerRequest(path: string, auth: string | undefined, opts: { method?: string; body?: string; userAgent?: string } = {}): Request {
  const headers: Record<string, string> = { "user-agent": opts.userAgent ?? "curl/8" };
  if (auth !== undefined) headers.authorization = auth;
  return new Request(`http://127.0.0.1:3000${path}`, { method: opts.method ?? "GET", headers, body: opts.body });
}

export const params = (job: string) => ({ params: Promise.resolve({ job }) });

let sqlClient: postgres.Sql | undefined;
/** A direct connection for assertions on the ledger. */
export function sql(): postgres.Sql {
  return (sqlClient ??= postgres(testDatabaseUrl(), { max: 2, onnotice: () => {} }));
}

export interface LedgerRow {
  id: string;
  job: string;
  trigger: string;
  status: string;
  message_id: string | null;
  schedule_id: string | null;
  attempt: number;
  slot_at: Date | null;
  lag_ms: number | null;
  duration_ms: number | null;
  stats: Record<string, unknown> | null;
  error: { name: string; message: string } | null;
}

export async function ledger(job: string): Promise<LedgerRow[]> {
  return sql()<LedgerRow[]>`select * from job_runs where job = ${job} order by started_at, id`;
}
