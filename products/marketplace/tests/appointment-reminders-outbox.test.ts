import { afterAll, describe, expect, it } from "vitest";
import job from "../jobs/appointment-reminders-1hr";
import { jobRunCommand } from "@/lib/cli/commands/job-run";
import { createCliContext } from "@/lib/cli/context";
import { memoryIo } from "@/lib/cli/io";
import { createDeps } from "@/lib/deps";
import { createRegistry } from "@/lib/jobs/registry";
import { testEnv } from "../../../tests/support/app";
import { at, insertAppointment, insertClient, insertExpert } from "../../../tests/support/vendors";

// Local mode on this machine, no vendor keys: the reminder's email and in-app notice go to the outbox.
const env = testEnv({ APP_ENV: "local", APP_URL: "http://127.0.0.1:3000" });
const registry = createRegistry([job], []);
const clock = new Date("2035-03-14T09:00:00Z");
const deps = { ...createDeps(env, registry), clock: () => clock };
afterAll(() => deps.db.close());

describe("pnpm job:run appointment-reminders-1hr in local mode", () => {
  it("shows whom each in-app notice is for (subscriber id and email), as it does for emails", async () => {
    const expert = await insertExpert({ name: "Dr. Ines" });
    const client = await insertClient({ name: "Omar" });
    const id = await insertAppointment({ expert: expert.id, client: client.id, startsAt: at(clock, 30 * 60_000) });
    const io = memoryIo();
    expect(await jobRunCommand(createCliContext({ env, registry, io, deps }), job.name)).toBe(0);

    const out = io.stdout();
    expect(out).toMatch(/outbox \(local mode: recorded, not sent\), 4:/);
    for (const [who, person] of [["client", client], ["expert", expert]] as const) {
      const key = `reminder:1h:${id}:${who}`;
      expect(out).toContain(`novu   ${person.id} (${person.email}): workflow appointment-reminder  (key ${key})`);
      expect(out).toMatch(new RegExp(`resend ${person.email.replace(/\./g, "\\.")}: .+  \\(key ${key}\\)`));
    }
    expect(out).not.toContain("[object Object]");
  });
});
