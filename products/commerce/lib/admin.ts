import type { Env } from "@/lib/env";
import { ConfigError } from "@/lib/errors";

/**
 * Who gets the shop's admin emails (stock alerts, the daily sales summary): ALERT_EMAIL. In local
 * mode without it, an address on localhost, so the outbox shows what would have gone out.
 */
export function adminRecipients(env: Pick<Env, "alertEmails" | "mode">, what: string): string[] {
  if (env.alertEmails.length) return env.alertEmails;
  if (env.mode === "local") return ["shop-admin@localhost"];
  throw new ConfigError(`ALERT_EMAIL is not set: ${what} goes to the shop's admins by email. Set ALERT_EMAIL to their address (several separated by commas).`);
}
