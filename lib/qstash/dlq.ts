import type { Client } from "@upstash/qstash";

export type DeadLetter = Awaited<ReturnType<Client["dlq"]["listMessages"]>>["messages"][number];

const JOB_IN_URL = /\/api\/(?:cron|jobs)\/([a-z0-9-]+)(?:[?#]|$)/;

/** The job a delivery URL belongs to (`.../api/cron/<job>` or `.../api/jobs/<job>`); not the failure callback route. */
export function jobOfUrl(url: string | undefined): string | undefined {
  if (!url || isFailureCallback(url)) return undefined;
  return JOB_IN_URL.exec(url)?.[1];
}

/** A failure callback that could not be delivered either (the app was down): dead letters about dead letters. */
export const isFailureCallback = (url: string | undefined) => /\/api\/jobs\/failed(?:[?#]|$)/.test(url ?? "");

/** Ours: delivered to this deployment. The DLQ is account-wide and other environments share it. */
export const isOurDeadLetter = (m: DeadLetter, appUrl: string) => m.url === appUrl || (m.url ?? "").startsWith(`${appUrl}/`);

/** Every dead letter in the account, page by page (100 a page). */
export async function listDeadLetters(client: Client, onPage: (fetched: number) => void = () => {}): Promise<DeadLetter[]> {
  const all: DeadLetter[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const res = await client.dlq.listMessages(cursor ? { cursor, count: 100 } : { count: 100 });
    all.push(...res.messages);
    onPage(all.length);
    if (!res.cursor || res.messages.length === 0) break;
    cursor = res.cursor;
  }
  return all;
}

/** One dead letter by id: asked for directly, then looked for in the full list (servers differ). */
export async function findDeadLetter(client: Client, dlqId: string): Promise<DeadLetter | undefined> {
  const direct = await client.dlq.listMessages({ dlqIds: [dlqId] }).catch(() => undefined);
  const hit = direct?.messages.find((m) => m.dlqId === dlqId);
  if (hit) return hit;
  return (await listDeadLetters(client)).find((m) => m.dlqId === dlqId);
}

/** Dead letters per job, for this deployment's URLs only. */
export function deadLettersByJob(messages: readonly DeadLetter[], appUrl: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of messages) {
    const job = isOurDeadLetter(m, appUrl) ? jobOfUrl(m.url) : undefined;
    if (job) counts.set(job, (counts.get(job) ?? 0) + 1);
  }
  return counts;
}
