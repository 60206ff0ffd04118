import { randomUUID } from "node:crypto";
import { GOOGLE_CLIENT, googleTokens } from "../mocks/google";
import { NOVU_KEY, novuTriggers } from "../mocks/novu";
import { RESEND_KEYS, resendEmails } from "../mocks/resend";
import { server } from "../mocks/server";
import { SLACK_WEBHOOK_URL, slackWebhook } from "../mocks/slack";
import { STRIPE_KEY, stripeApi } from "../mocks/stripe";
import { sql } from "./app";

/** Every vendor configured, pointed at the msw handlers (their real hosts: nothing leaves the process). */
export const VENDOR_ENV = {
  STRIPE_SECRET_KEY: STRIPE_KEY,
  RESEND_API_KEY: RESEND_KEYS.sendingOnly,
  EMAIL_FROM: "Bookings <bookings@mail.example.test>",
  NOVU_API_KEY: NOVU_KEY,
  GOOGLE_CLIENT_ID: GOOGLE_CLIENT.id,
  GOOGLE_CLIENT_SECRET: GOOGLE_CLIENT.secret,
  SLACK_WEBHOOK_URL,
  ALERT_EMAIL: "ops@example.test",
};

type Opts<F extends (...a: never[]) => unknown> = Parameters<F>[0];

/** Installs every vendor's handlers for this test and returns what each one received. */
export function vendors(
  o: { stripe?: Opts<typeof stripeApi>; resend?: Opts<typeof resendEmails>; novu?: Opts<typeof novuTriggers>; google?: Opts<typeof googleTokens>; slack?: Opts<typeof slackWebhook> } = {},
) {
  const stripe = stripeApi(o.stripe);
  const resend = resendEmails(o.resend);
  const novu = novuTriggers(o.novu);
  const google = googleTokens(o.google);
  const slack = slackWebhook(o.slack);
  server.use(...stripe.handlers, ...resend.handlers, ...novu.handlers, ...google.handlers, ...slack.handlers);
  return { stripe: stripe.calls, resend: resend.calls, novu: novu.calls, google: google.calls, slack: slack.calls };
}

const short = () => randomUUID().slice(0, 8);

export interface Person {
  id: string;
  name: string;
  email: string;
  time_zone: string;
}

export async function insertExpert(o: { name?: string; time_zone?: string; currency?: string; stripe_account_id?: string | null } = {}): Promise<Person & { stripe_account_id: string | null }> {
  const tag = short();
  const row = {
    name: o.name ?? `Expert ${tag}`,
    email: `expert-${tag}@example.test`,
    time_zone: o.time_zone ?? "UTC",
    currency: o.currency ?? "usd",
    stripe_account_id: o.stripe_account_id === undefined ? `acct_${tag}` : o.stripe_account_id,
  };
  const [e] = await sql()`insert into experts ${sql()(row)} returning id, name, email, time_zone, stripe_account_id`;
  return e as Person & { stripe_account_id: string | null };
}

export async function insertClient(o: { name?: string; time_zone?: string } = {}): Promise<Person> {
  const tag = short();
  const [c] = await sql()`insert into clients ${sql()({ name: o.name ?? `Client ${tag}`, email: `client-${tag}@example.test`, time_zone: o.time_zone ?? "UTC" })} returning id, name, email, time_zone`;
  return c as Person;
}

export async function insertAppointment(o: {
  expert: string;
  client: string;
  startsAt: Date;
  minutes?: number;
  status?: "pending_payment" | "confirmed" | "completed" | "cancelled";
  paymentDueAt?: Date;
  completedAt?: Date;
}): Promise<string> {
  const [a] = await sql()`
    insert into appointments (expert_id, client_id, starts_at, ends_at, status, payment_due_at, completed_at)
    values (${o.expert}, ${o.client}, ${o.startsAt}, ${new Date(o.startsAt.getTime() + (o.minutes ?? 60) * 60_000)},
            ${o.status ?? "confirmed"}, ${o.paymentDueAt ?? null}, ${o.completedAt ?? null})
    returning id`;
  return a!.id as string;
}

export async function insertPayment(o: {
  appointment: string;
  expert: string;
  amount?: number;
  fee?: number;
  status?: string;
  transferredAt?: Date;
  currency?: string;
}): Promise<string> {
  const [p] = await sql()`
    insert into payments (appointment_id, expert_id, amount_cents, platform_fee_cents, currency, status, stripe_charge_id, captured_at, transferred_at, stripe_transfer_id)
    values (${o.appointment}, ${o.expert}, ${o.amount ?? 10_000}, ${o.fee ?? 2_000}, ${o.currency ?? "usd"}, ${o.status ?? "captured"}, ${`ch_${short()}`},
            now(), ${o.transferredAt ?? null}, ${o.transferredAt ? `tr_seed_${short()}` : null})
    returning id`;
  return p!.id as string;
}

export const hours = (n: number) => n * 3_600_000;
export const days = (n: number) => n * 86_400_000;
export const at = (base: Date, offsetMs: number) => new Date(base.getTime() + offsetMs);
