import { DateTime } from "luxon";

/**
 * The estimated delivery date on a confirmation: `businessDays` working days (Monday to Friday)
 * after the calendar day of the confirmation in the store's zone. A confirmation on a Saturday
 * counts from the Monday like one on the Friday; public holidays are not known.
 */
export function estimatedDelivery(confirmedAt: Date | string, zone: string, businessDays: number): DateTime {
  const at = typeof confirmedAt === "string" ? DateTime.fromISO(confirmedAt, { zone }) : DateTime.fromJSDate(confirmedAt, { zone });
  if (!at.isValid) throw new RangeError(`not a time in ${zone}: ${String(confirmedAt)}`);
  let day = at.startOf("day");
  for (let left = businessDays; left > 0; ) {
    day = day.plus({ days: 1 });
    if (day.weekday <= 5) left--;
  }
  return day;
}
