import { describe, expect, it } from "vitest";
import { nextBusinessInstant, type BusinessHours } from "../../lib/time/business-hours";

/**
 * Expected instants are written out by hand, with the zone's offset on that date, and compared
 * as instants (Date parses ISO offsets itself): nothing here asks luxon what the answer is.
 * 2027-01-08 is a Friday; the 2027 DST days: Lisbon 03-28 / 10-31, New York 03-14 / 11-07,
 * Sydney 04-04 (ends) / 10-03 (starts), Havana 03-14 / 11-07 (at midnight: 00:00 CST becomes
 * 01:00 CDT, 01:00 CDT goes back to 00:00 CST), all Sundays.
 */
const WEEKDAYS = [1, 2, 3, 4, 5];
const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];
const hours = (zone: string, o: Partial<BusinessHours> = {}): BusinessHours => ({ zone, start: "09:00", end: "17:00", days: WEEKDAYS, ...o });

const cases: [name: string, at: string, window: BusinessHours, expected: string][] = [
  ["Friday 16:59 is open", "2027-01-08T16:59:00Z", hours("UTC"), "2027-01-08T16:59:00+00:00"],
  ["Friday 17:00 is closed: Monday 09:00", "2027-01-08T17:00:00Z", hours("UTC"), "2027-01-11T09:00:00+00:00"],
  ["Friday 17:59 is closed too", "2027-01-08T17:59:00Z", hours("UTC"), "2027-01-11T09:00:00+00:00"],
  ["Saturday: Monday 09:00", "2027-01-09T12:00:00Z", hours("UTC"), "2027-01-11T09:00:00+00:00"],
  ["Sunday: the next day, not the next week", "2027-01-10T20:00:00Z", hours("UTC"), "2027-01-11T09:00:00+00:00"],
  ["before 09:00: 09:00 that day", "2027-01-12T08:59:59Z", hours("UTC"), "2027-01-12T09:00:00+00:00"],
  ["exactly 09:00 is open", "2027-01-13T09:00:00Z", hours("UTC"), "2027-01-13T09:00:00+00:00"],
  ["Asia/Kolkata 07:30 Monday: 09:00 IST", "2027-01-11T02:00:00Z", hours("Asia/Kolkata"), "2027-01-11T09:00:00+05:30"],
  ["Asia/Kolkata Friday 17:00 IST: Monday", "2027-01-08T11:30:00Z", hours("Asia/Kolkata"), "2027-01-11T09:00:00+05:30"],
  ["America/Los_Angeles Friday 16:30 PST (Saturday in UTC) is open", "2027-01-09T00:30:00Z", hours("America/Los_Angeles"), "2027-01-08T16:30:00-08:00"],
  ["America/Los_Angeles Monday 08:00 PST", "2027-01-11T16:00:00Z", hours("America/Los_Angeles"), "2027-01-11T09:00:00-08:00"],
  ["Pacific/Chatham Friday 17:00 +13:45: Monday", "2027-01-08T03:15:00Z", hours("Pacific/Chatham"), "2027-01-11T09:00:00+13:45"],
  ["Pacific/Chatham Monday 08:45 +13:45 (Sunday in UTC)", "2027-01-10T19:00:00Z", hours("Pacific/Chatham"), "2027-01-11T09:00:00+13:45"],
  ["Pacific/Chatham in winter, +12:45", "2027-07-05T19:00:00Z", hours("Pacific/Chatham"), "2027-07-06T09:00:00+12:45"],

  ["Lisbon spring forward: Friday 17:00 WET to Monday 09:00 WEST", "2027-03-26T17:00:00Z", hours("Europe/Lisbon"), "2027-03-29T09:00:00+01:00"],
  ["Lisbon spring-forward Sunday 09:00 is WEST", "2027-03-27T20:00:00Z", hours("Europe/Lisbon", { days: EVERY_DAY }), "2027-03-28T09:00:00+01:00"],
  ["Lisbon: a 01:30 start in the gap opens at 02:00 WEST", "2027-03-28T00:00:00Z", hours("Europe/Lisbon", { start: "01:30", days: EVERY_DAY }), "2027-03-28T02:00:00+01:00"],
  ["Lisbon fall back: Friday 17:00 WEST to Monday 09:00 WET", "2027-10-29T16:00:00Z", hours("Europe/Lisbon"), "2027-11-01T09:00:00+00:00"],
  ["Lisbon fall-back Sunday 09:00 is WET", "2027-10-30T16:00:00Z", hours("Europe/Lisbon", { days: EVERY_DAY }), "2027-10-31T09:00:00+00:00"],

  ["New York spring forward: Friday 17:00 EST to Monday 09:00 EDT", "2027-03-12T22:00:00Z", hours("America/New_York"), "2027-03-15T09:00:00-04:00"],
  ["New York spring-forward Sunday 09:00 is EDT", "2027-03-13T22:00:00Z", hours("America/New_York", { days: EVERY_DAY }), "2027-03-14T09:00:00-04:00"],
  ["New York: a 02:30 start in the gap opens at 03:00 EDT", "2027-03-14T05:00:00Z", hours("America/New_York", { start: "02:30", days: EVERY_DAY }), "2027-03-14T03:00:00-04:00"],
  ["New York fall back: Friday 17:00 EDT to Monday 09:00 EST", "2027-11-05T21:00:00Z", hours("America/New_York"), "2027-11-08T09:00:00-05:00"],
  ["New York fall-back Sunday 09:00 is EST", "2027-11-06T21:00:00Z", hours("America/New_York", { days: EVERY_DAY }), "2027-11-07T09:00:00-05:00"],
  ["New York: a 01:30 start that happens twice opens at the first", "2027-11-07T04:00:00Z", hours("America/New_York", { start: "01:30", days: EVERY_DAY }), "2027-11-07T01:30:00-04:00"],

  ["Sydney DST ends: Friday 17:00 AEDT to Monday 09:00 AEST", "2027-04-02T06:00:00Z", hours("Australia/Sydney"), "2027-04-05T09:00:00+10:00"],
  ["Sydney DST-end Sunday 09:00 is AEST", "2027-04-03T06:00:00Z", hours("Australia/Sydney", { days: EVERY_DAY }), "2027-04-04T09:00:00+10:00"],
  ["Sydney DST starts: Friday 17:00 AEST to Monday 09:00 AEDT", "2027-10-01T07:00:00Z", hours("Australia/Sydney"), "2027-10-04T09:00:00+11:00"],
  ["Sydney DST-start Sunday 09:00 is AEDT", "2027-10-02T07:00:00Z", hours("Australia/Sydney", { days: EVERY_DAY }), "2027-10-03T09:00:00+11:00"],
  ["Sydney: a 02:30 start in the gap opens at 03:00 AEDT", "2027-10-02T14:00:00Z", hours("Australia/Sydney", { start: "02:30", days: EVERY_DAY }), "2027-10-03T03:00:00+11:00"],

  ["New York: a window inside the gap does not exist that day: the next day's", "2027-03-14T05:00:00Z", hours("America/New_York", { start: "02:00", end: "02:30", days: EVERY_DAY }), "2027-03-15T02:00:00-04:00"],
  ["New York: a Sundays-only window inside the gap: a week on", "2027-03-14T05:00:00Z", hours("America/New_York", { start: "02:00", end: "02:30", days: [7] }), "2027-03-21T02:00:00-04:00"],
  ["New York: a window in the repeated hour is open again in its second pass", "2027-11-07T05:45:00Z", hours("America/New_York", { start: "01:00", end: "01:30", days: EVERY_DAY }), "2027-11-07T01:00:00-05:00"],
  ["Havana repeats midnight (01:00 CDT back to 00:00 CST): Sunday 09:00 is CST", "2027-11-07T03:00:00Z", hours("America/Havana", { days: EVERY_DAY }), "2027-11-07T09:00:00-05:00"],
  ["Havana: a window at midnight opens at the first midnight", "2027-11-07T03:00:00Z", hours("America/Havana", { start: "00:00", end: "00:30", days: EVERY_DAY }), "2027-11-07T00:00:00-04:00"],

  ["a window on Mondays only, after Monday's close: a week on", "2027-01-11T17:00:00Z", hours("UTC", { days: [1] }), "2027-01-18T09:00:00+00:00"],
  ["a weekend-only window from Friday", "2027-01-08T10:00:00Z", hours("UTC", { days: [6, 7], start: "10:00", end: "12:30" }), "2027-01-09T10:00:00+00:00"],
];

describe("nextBusinessInstant", () => {
  it.each(cases)("%s", (_name, at, window, expected) => {
    expect(nextBusinessInstant(new Date(at), window).toISOString()).toBe(new Date(expected).toISOString());
  });

  it("keeps the milliseconds of an instant that is already open", () => {
    expect(nextBusinessInstant(new Date("2027-01-08T10:00:00.123Z"), hours("UTC")).toISOString()).toBe("2027-01-08T10:00:00.123Z");
  });

  it("names the field that is wrong", () => {
    expect(() => nextBusinessInstant(new Date(), hours("Mars/Olympus_Mons"))).toThrow('zone: unknown time zone "Mars/Olympus_Mons"');
    expect(() => nextBusinessInstant(new Date(), hours("UTC", { start: "9:00" }))).toThrow('start: "9:00" is not a time of day as HH:MM');
    expect(() => nextBusinessInstant(new Date(), hours("UTC", { end: "24:00" }))).toThrow('end: "24:00" is not a time of day');
    expect(() => nextBusinessInstant(new Date(), hours("UTC", { start: "17:00", end: "09:00" }))).toThrow("end: 09:00 must be after start 17:00");
    expect(() => nextBusinessInstant(new Date(), hours("UTC", { days: [] }))).toThrow("days: [] must be ISO weekdays");
    expect(() => nextBusinessInstant(new Date(), hours("UTC", { days: [0, 1] }))).toThrow("days: [0,1] must be ISO weekdays");
  });
});
