import { DateTime } from "luxon";
import type postgres from "postgres";

const DOMAIN = "seed.cronlayer.test";
const H = 3_600_000;
const D = 24 * H;

/**
 * Learners of the language app (products/engagement/README.md): five in their first three days (founder
 * emails), one who practised today, and one in a zone whose 09:00 hour holds the next hourly
 * tick, so plan-practice-reminders has someone to remind on its next run.
 */
export async function seed(tx: postgres.TransactionSql, now: Date): Promise<string[]> {
  const old = await tx`select id from learners where email like ${"%@" + DOMAIN}`;
  await tx`delete from effects where subject = any(${old.map((r) => r.id as string)}::text[])`;
  await tx`delete from learners where email like ${"%@" + DOMAIN}`;
  const tick = new Date(Math.ceil(now.getTime() / H) * H);
  const nine = Intl.supportedValuesOf("timeZone").find((z) => DateTime.fromJSDate(tick, { zone: z }).hour === 9) ?? "UTC";
  const ago = (d: number) => new Date(now.getTime() - d * D);
  await tx`insert into learners ${tx([
    { email: `ines@${DOMAIN}`, name: "Inês", language: "es", time_zone: "Europe/Lisbon", signed_up_at: ago(1) },
    { email: `arjun@${DOMAIN}`, name: "Arjun", language: "en", time_zone: "Asia/Kolkata", signed_up_at: ago(2) },
    { email: `mia@${DOMAIN}`, name: "Mia", language: "de", time_zone: "Pacific/Auckland", signed_up_at: ago(3) },
    { email: `leo@${DOMAIN}`, name: "Léo", language: "fr", time_zone: "America/Los_Angeles", signed_up_at: ago(1) },
    { email: `kai@${DOMAIN}`, name: "Kai", language: "en", time_zone: "America/Sao_Paulo", signed_up_at: ago(0.1), last_practised_at: now },
    { email: `nine@${DOMAIN}`, name: "Noor", language: "en", time_zone: nine, signed_up_at: ago(40) },
  ])}`;
  return ["learners: pnpm job:run plan-founder-emails plans 4 founder emails; plan-practice-reminders at the next hour reminds one learner (products/engagement/README.md)."];
}
