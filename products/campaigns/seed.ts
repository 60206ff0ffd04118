import type postgres from "postgres";

/** A three-node campaign (email, wait, notification) with no users yet: schedule them with POST /api/campaigns/<id>/runs (products/campaigns/README.md). */
export async function seed(tx: postgres.TransactionSql, now: Date): Promise<string[]> {
  await tx`delete from campaigns where name = 'Seed: welcome'`;
  const nodes = [
    { id: "welcome_email", type: "email", config: { subject: "Welcome", text: "Glad you are here." }, next: "pause", timeoutSeconds: 86_400 },
    { id: "pause", type: "wait", config: { seconds: 86_400 }, next: "nudge", timing: "immediate" },
    { id: "nudge", type: "notification", config: { workflowId: "campaign-nudge" }, timeoutSeconds: 86_400 },
  ];
  await tx`select campaign_create('Seed: welcome', 'UTC', ${tx.json({ start: "09:00", end: "17:00", days: [1, 2, 3, 4, 5] })}, ${tx.json(nodes)}, ${now})`;
  return ['campaigns: the seed campaign "Seed: welcome" has three nodes and no users yet (products/campaigns/README.md).'];
}
