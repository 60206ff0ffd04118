import { DateTime } from "luxon";

export interface StoreDay {
  /** yyyy-mm-dd in the store's zone. */
  date: string;
  /** Local midnight of that day, and of the next: 23 or 25 hours apart on a DST change day. */
  from: Date;
  to: Date;
}

/** The store's calendar day that `at` falls on, or the day `date` names, in `zone`. */
export function storeDay(zone: string, at: Date | string): StoreDay {
  const start = (typeof at === "string" ? DateTime.fromISO(at, { zone }) : DateTime.fromJSDate(at, { zone })).startOf("day");
  if (!start.isValid) throw new RangeError(`not a day in ${zone}: ${String(at)} (${start.invalidExplanation ?? start.invalidReason})`);
  return { date: start.toISODate()!, from: start.toJSDate(), to: start.plus({ days: 1 }).toJSDate() };
}
