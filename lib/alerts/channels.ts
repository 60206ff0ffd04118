import type { Env } from "../env";
import type { ProviderName, Providers } from "../providers";

/** What an alert says, in the three forms the channels need. */
export interface AlertMessage {
  subject: string;
  text: string;
  html: string;
}

export interface AlertChannel {
  name: "email" | "slack" | "novu";
  provider: ProviderName;
  /** Sends once per key: the key is Resend's idempotency key and Novu's transaction id. */
  send(message: AlertMessage, key: string, signal?: AbortSignal): Promise<void>;
  /**
   * Whether the provider drops a second send with the same key. Alerts prefer a possible duplicate
   * to a lost alert, so a send whose outcome is unknown (a timeout, a 5xx) is sent again on every
   * channel (docs/reliability.md, Alerts): on a channel that dedupes the repeat is free; on one
   * that does not (Slack's incoming webhooks) it may post the alert twice, and says so.
   */
  dedupes: boolean;
}

/**
 * The one place that knows where alerts go: email to ALERT_EMAIL (Resend), the Slack webhook, and a
 * Novu workflow when NOVU_ALERT_WORKFLOW names one. Locally, without keys, the providers are the
 * outbox stand-ins, so an alert is recorded in provider_outbox instead of sent.
 */
export function alertChannels(env: Pick<Env, "alertEmails" | "alerts">, providers: Providers, kind: string, signal?: AbortSignal): AlertChannel[] {
  const channels: AlertChannel[] = [];
  if (env.alertEmails.length) {
    channels.push({
      name: "email",
      provider: "resend",
      dedupes: true, // Resend keeps an idempotency key for 24 hours
      send: (m, key) => providers.email().send({ to: env.alertEmails, ...m, idempotencyKey: key, tags: { kind } }, signal).then(() => {}),
    });
  }
  const slack = providers.slack();
  // No idempotency on an incoming webhook: a repeat after an unknown outcome may post twice.
  if (slack) channels.push({ name: "slack", provider: "slack", dedupes: false, send: (m, key) => slack.post({ text: `*${m.subject}*\n${m.text}`, key }, signal) });
  const workflow = env.alerts.novuWorkflow;
  if (workflow) {
    channels.push({
      name: "novu",
      provider: "novu",
      dedupes: true, // Novu drops a second trigger with the same transaction id
      send: (m, key) =>
        providers
          .notify()
          .trigger({ workflowId: workflow, subscriber: { id: env.alerts.novuSubscriber, email: env.alertEmails[0] }, payload: { kind, subject: m.subject, text: m.text }, transactionId: key }, signal)
          .then(() => {}),
    });
  }
  return channels;
}

/** "sent", or where a stand-in put it: a local alert is recorded, not sent, and says so. */
export function deliveredAs(providers: Providers, channel: AlertChannel): string {
  const mode = providers.modes()[channel.provider];
  return mode === "live" ? "sent" : `recorded in the ${mode}`;
}
