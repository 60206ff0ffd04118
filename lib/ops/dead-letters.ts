import type { Client } from "@upstash/qstash";
import type { AlertDeps } from "../alerts/incidents";
import { reconcileDeadLetters, type Reconciled } from "../dead-letters/reconcile";
import type { Env } from "../env";
import { findDeadLetter, isFailureCallback, isOurDeadLetter, jobOfUrl, listDeadLetters, type DeadLetter } from "../qstash/dlq";

/**
 * The console's dead letters: QStash's DLQ (what can be replayed) limited to this deployment, with
 * the lookups the CLI uses (lib/qstash/dlq.ts). The `dead_letters` table keeps the history; the DLQ
 * is what still waits for a person.
 */
export async function ourDeadLetters(client: Client, env: Pick<Env, "appUrl">, job?: string): Promise<DeadLetter[]> {
  const all = await listDeadLetters(client);
  return all
    .filter((m) => isOurDeadLetter(m, env.appUrl) && (!job || jobOfUrl(m.url) === job))
    .sort((a, b) => b.createdAt - a.createdAt);
}

/**
 * The console's dead letters, reconciled as they are shown: one whose failure callback never
 * reached the app is recorded and alerted now (once: keep-alive does the same every day), so what
 * a person sees here is never news to the app. A reconciliation that fails leaves the list as is.
 */
export async function seenDeadLetters(deps: AlertDeps, client: Client, job?: string): Promise<{ listed: DeadLetter[]; reconciled?: Reconciled; reconcileError?: string }> {
  const listed = await ourDeadLetters(client, deps.env, job);
  try {
    return { listed, reconciled: await reconcileDeadLetters(deps, client, new Date(), listed) };
  } catch (err) {
    return { listed, reconcileError: `dead letters not reconciled with the app's records: ${(err as Error).message}` };
  }
}

/** What a reconciliation on the page did, for its notice; undefined when it found everything settled. */
export function reconciledNotice(r: Reconciled | undefined): string | undefined {
  if (!r || (!r.recorded && !r.alertsRetried)) return undefined;
  const parts = [r.recorded && `${r.recorded} dead letter(s) whose failure callback never reached the app recorded and alerted now`, r.alertsRetried && `${r.alertsRetried} alert(s) sent again to the channels they had missed`];
  return parts.filter(Boolean).join("; ");
}

export const jobOfDeadLetter = (m: DeadLetter) => jobOfUrl(m.url) ?? (isFailureCallback(m.url) ? "(failure callback)" : "?");
export const bodyOf = (m: DeadLetter) => m.body ?? (m.bodyBase64 ? Buffer.from(m.bodyBase64, "base64").toString("utf8") : "");
/** The last response, or why there was none (the local server says; the cloud has a status). */
export const lastResponseOf = (m: DeadLetter) =>
  m.responseBody ?? (m.responseBodyBase64 ? Buffer.from(m.responseBodyBase64, "base64").toString("utf8") : undefined) ?? (m as DeadLetter & { error?: string }).error ?? "";

export async function ourDeadLetter(client: Client, env: Pick<Env, "appUrl">, dlqId: string): Promise<DeadLetter | undefined> {
  const m = await findDeadLetter(client, dlqId);
  return m && isOurDeadLetter(m, env.appUrl) ? m : undefined;
}

/**
 * Publishes the dead letter again to the same destination, then drops it from the DLQ. The
 * deduplication id is new to QStash (the original's is spent) but fixed per dead letter, so a
 * double click or a repeated bulk replay within QStash's 10 minutes publishes it once.
 */
export async function replayDeadLetter(client: Client, env: Pick<Env, "appUrl">, m: DeadLetter): Promise<{ messageId: string; deduplicated: boolean }> {
  if (!isOurDeadLetter(m, env.appUrl)) throw new Error(`dead letter ${m.dlqId} was delivered to ${m.url}, outside ${env.appUrl}: not replayed from here`);
  const contentType = Object.entries(m.header ?? {}).find(([k]) => k.toLowerCase() === "content-type")?.[1]?.[0] ?? "application/json";
  const res = await client.publish({
    url: m.url,
    method: (m.method as "POST" | undefined) ?? "POST",
    body: bodyOf(m),
    headers: { "content-type": contentType },
    deduplicationId: `replay-${m.dlqId}`,
    retries: m.maxRetries,
    failureCallback: `${env.appUrl}/api/jobs/failed`,
  });
  const one = (Array.isArray(res) ? res[0] : res) as { messageId: string; deduplicated?: boolean };
  await client.dlq.delete(m.dlqId);
  return { messageId: one.messageId, deduplicated: one.deduplicated ?? false };
}

export async function deleteDeadLetter(client: Client, dlqId: string): Promise<void> {
  await client.dlq.delete(dlqId);
}
