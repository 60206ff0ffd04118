import { describe, expect, it } from "vitest";
import job from "../jobs/cleanup-blocked-dates";
import { runJob } from "@/lib/jobs/run";
import { sql, testDeps } from "../../../tests/support/app";
import { insertExpert } from "../../../tests/support/vendors";

const runAt = (now: Date) => runJob({ job: job.name, payload: {}, trigger: "cli" }, { ...testDeps([job]), clock: () => now });

async function blocked(zone: string, days: string[]) {
  const expert = await insertExpert({ time_zone: zone });
  await sql()`insert into expert_blocked_dates ${sql()(days.map((d) => ({ expert_id: expert.id, blocked_on: d })))}`;
  return expert.id;
}
const left = async (expert: string) =>
  (await sql()<{ d: string }[]>`select to_char(blocked_on, 'YYYY-MM-DD') as d from expert_blocked_dates where expert_id = ${expert} order by blocked_on`).map((r) => r.d);

// Each test runs earlier than the one before: what a test keeps (today, future) is never past for the next.
describe("cleanup-blocked-dates", () => {
  it("decides 'before today' in each expert's zone, right after Auckland's clocks went back", async () => {
    // NZ leaves daylight time on Sunday 2 April 2034 (03:00 NZDT -> 02:00 NZST). At 11:30 UTC it is
    // 23:30 on the 2nd in Auckland; the old +13 offset would say 00:30 on the 3rd and drop the 2nd.
    const now = new Date("2034-04-02T11:30:00Z");
    const auckland = await blocked("Pacific/Auckland", ["2034-03-31", "2034-04-01", "2034-04-02", "2034-04-03"]);
    const utc = await blocked("UTC", ["2034-04-01", "2034-04-02"]);
    const honolulu = await blocked("Pacific/Honolulu", ["2034-04-01", "2034-04-02"]); // 01:30 on the 2nd
    expect(await runAt(now)).toMatchObject({ status: "succeeded", stats: { deleted: 4 } });
    expect(await left(auckland)).toEqual(["2034-04-02", "2034-04-03"]);
    expect(await left(utc)).toEqual(["2034-04-02"]);
    expect(await left(honolulu)).toEqual(["2034-04-02"]);
    expect(await runAt(now)).toMatchObject({ stats: { deleted: 0 } });
  });

  it("keeps the expert's today on the night Los Angeles springs forward, though UTC is already tomorrow", async () => {
    // US daylight time starts Sunday 12 March 2034 at 10:00 UTC; at 07:30 UTC it is 23:30 PST on the 11th.
    const now = new Date("2034-03-12T07:30:00Z");
    const la = await blocked("America/Los_Angeles", ["2034-03-10", "2034-03-11", "2034-03-12"]);
    expect(await runAt(now)).toMatchObject({ stats: { deleted: 1 } });
    expect(await left(la)).toEqual(["2034-03-11", "2034-03-12"]);
    // Three hours later it is 03:30 PDT on the 12th (02:xx never happened): the 11th is past.
    expect(await runAt(new Date("2034-03-12T10:30:00Z"))).toMatchObject({ stats: { deleted: 1 } });
    expect(await left(la)).toEqual(["2034-03-12"]);
  });
});
