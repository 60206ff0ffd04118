import type postgres from "postgres";

const H = 3_600_000;
const D = 24 * H;

/**
 * The clinic: patients on fictional numbers (+1 555 01xx) and their forms: one past its deadline
 * without a call (check-forms picks it up), one submitted, one due in two days. Forms made here have
 * no deadline message; forms made through POST /api/forms do (products/forms/README.md).
 */
export async function seed(tx: postgres.TransactionSql, now: Date): Promise<string[]> {
  const t = (ms: number) => new Date(now.getTime() + ms);

  const old = await tx`select id from forms where patient_id in (select id from patients where phone like '+155501%')`;
  await tx`delete from effects where key = any(${old.map((f) => `call:${f.id as string}`)}::text[])`;
  await tx`delete from patients where phone like '+155501%'`;
  const patients = await tx`insert into patients ${tx([
    { name: "Maria Garcia", phone: "+15550100101", zone: "America/Los_Angeles" },
    { name: "John Smith", phone: "+15550100102", zone: "America/New_York" },
    { name: "Aiko Sato", phone: "+15550100103", zone: "Asia/Tokyo" },
  ])} returning id`;
  const [maria, john, aiko] = patients.map((r) => r.id as string) as [string, string, string];
  await tx`insert into forms ${tx([
    { patient_id: maria, title: "New patient intake", deadline: t(-30 * 60_000), status: "pending" },
    { patient_id: john, title: "Medication history", deadline: t(-H), status: "submitted", submitted_at: t(-2 * H) },
    { patient_id: aiko, title: "Pre-surgery consent", deadline: t(2 * D), status: "pending" },
  ])}`;
  return ["forms: 3 patients and their forms; pnpm job:run check-forms publishes the call of the overdue form (products/forms/README.md)."];
}
