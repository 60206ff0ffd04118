import { databaseDownAlert } from "@/lib/emails/database-down-alert";
import { describeError } from "@/lib/errors";
import type { LedgerDownContext } from "@/lib/jobs/define";
import type { MaintenanceStep } from "@/lib/jobs/parts";
import { pruneKeysWithoutTtl } from "@/lib/redis-maintenance";

/** Without Redis, one alert per server instance per hour: better a few than none. */
let lastSentHour: string | undefined;

/**
 * keep-alive when its run cannot be opened: the database is down, which is exactly what the
 * independent heartbeat is for. Redis is still checked and kept, the products' upkeep steps are
 * reported as not run (what they work on lives in the database), and one alert goes out per hour: deduplicated in
 * Redis across instances when it answers, per instance otherwise, and by the providers' own
 * idempotency keys (Resend) on top.
 */
export async function whenDatabaseDown(ctx: LedgerDownContext, redisPrefixes: readonly string[], steps: readonly MaintenanceStep[] = []): Promise<void> {
  const { redis, env, providers, signal, now, log } = ctx;
  const hour = now.toISOString().slice(0, 13);
  const key = `alert:keep-alive:database-down:${hour}`;
  const checks: string[] = steps.map((s) => `${s.title}: not checked: it works on rows in the database.`);
  let first = true;
  if (redis) {
    try {
      const pruned = await pruneKeysWithoutTtl(redis, redisPrefixes, { signal });
      checks.push(`Redis: ok (${pruned.deleted} stale key(s) removed).`);
      first = (await redis.set(key, now.toISOString(), { nx: true, ex: 3600 })) === "OK";
    } catch (err) {
      checks.push(`Redis: also failing: ${describeError(err).message}`);
      first = lastSentHour !== hour;
    }
  } else {
    checks.push("Redis: not configured.");
    first = lastSentHour !== hour;
  }
  if (!first) {
    log.warn("keep_alive.database_down", { alert: "already sent this hour", checks });
    return;
  }
  lastSentHour = hour;
  const message = databaseDownAlert(now, describeError(ctx.error).message, checks);
  const sent: string[] = [];
  if (env.alertEmails.length) {
    await providers.email().send({ to: env.alertEmails, ...message, idempotencyKey: key, tags: { kind: "database-down" } }, signal);
    sent.push("email");
  }
  const slack = providers.slack();
  if (slack) {
    await slack.post({ text: `*${message.subject}*\n${message.text}`, key }, signal);
    sent.push("slack");
  }
  log.error("keep_alive.database_down", { alert: sent.length ? `sent by ${sent.join(", ")}` : "no ALERT_EMAIL or SLACK_WEBHOOK_URL to send it to", checks });
}
