import { describe, expect, it } from "vitest";
import type { JobDefinition } from "@/lib/jobs/define";
import { jobRoute } from "@/lib/http/job-route";
import { runJob } from "@/lib/jobs/run";
import { resendError } from "../../../tests/mocks/resend";
import { bearerRequest, CRON_SECRET, params, sql, testDeps } from "../../../tests/support/app";
import { at, insertAppointment, insertClient, insertExpert, VENDOR_ENV, vendors } from "../../../tests/support/vendors";

/**
 * The acceptance suite of a reminder job (24 h and 1 h share it). `base` is this file's own era:
 * every test uses a different day of it, so no test's window sees another test's appointments.
 */
export function reminderSuite(job: JobDefinition, o: { kind: "24h" | "1h"; cron: string; base: string; windowMs: number }) {
  let clock = new Date(o.base);
  const deps = { ...testDeps([job], [{ job: job.name, cron: o.cron, overlap: "allow" }], VENDOR_ENV), clock: () => clock };
  const run = () => runJob({ job: job.name, payload: {}, trigger: "cli" }, deps);
  const day = (n: number) => new Date(new Date(o.base).getTime() + n * 86_400_000);
  const key = (appointment: string, who: "client" | "expert") => `reminder:${o.kind}:${appointment}:${who}`;
  const inWindow = (now: Date, fraction: number) => at(now, Math.round(o.windowMs * fraction));

  async function booking(now: Date, startsAt: Date, status: "confirmed" | "pending_payment" | "cancelled" = "confirmed") {
    const expert = await insertExpert({ time_zone: "Europe/Berlin" });
    const client = await insertClient({ time_zone: "America/New_York" });
    const id = await insertAppointment({ expert: expert.id, client: client.id, startsAt, status, paymentDueAt: status === "pending_payment" ? at(now, 3_600_000) : undefined });
    return { id, expert, client };
  }

  /** The appointment's reminder effects: each a claim that this job made (or is making) the reminder. */
  const claims = async (appointment: string) =>
    sql()<{ key: string; job: string; status: string; attempts: number }[]>`select key, job, status, attempts from effects where subject = ${appointment} order by key`;

  describe(`${job.name}: acceptance`, () => {
    it("emails and notifies client and expert of each confirmed appointment in the window, once, in their own zone", async () => {
      clock = day(0);
      const calls = vendors();
      const soon = await booking(clock, inWindow(clock, 0.1));
      const edge = await booking(clock, inWindow(clock, 1)); // the window's last instant is in
      // Awaiting payment: it may lapse before it starts, so it is not an appointment yet.
      const unpaid = await booking(clock, inWindow(clock, 0.5), "pending_payment");
      const beyond = await booking(clock, at(inWindow(clock, 1), 60_000));
      const cancelled = await booking(clock, inWindow(clock, 0.2), "cancelled");
      const started = await booking(clock, clock);

      expect(await run()).toMatchObject({ status: "succeeded", stats: { sent: 4, failed: 0 } });
      const wanted = [soon, edge].flatMap((b) => [key(b.id, "client"), key(b.id, "expert")]).sort();
      expect(calls.resend.map((c) => c.idempotencyKey).sort()).toEqual(wanted);
      expect(calls.novu.map((c) => c.idempotencyKey).sort()).toEqual(wanted);

      const toClient = calls.resend.find((c) => c.idempotencyKey === key(soon.id, "client"))!;
      expect(toClient.url).toBe("https://api.resend.com/emails");
      expect(toClient.body).toMatchObject({ from: VENDOR_ENV.EMAIL_FROM, to: soon.client.email, subject: expect.stringContaining(soon.expert.name) });
      expect(toClient.body.text).toContain(`Hi ${soon.client.name},`);
      expect(toClient.body.text).toContain("(America/New_York)");
      expect(toClient.body.html).toContain("<!doctype html>");
      const toExpert = calls.resend.find((c) => c.idempotencyKey === key(soon.id, "expert"))!;
      expect(toExpert.body).toMatchObject({ to: soon.expert.email });
      expect(toExpert.body.text).toContain(`your client ${soon.client.name}`);
      expect(toExpert.body.text).toContain("(Europe/Berlin)");
      const notice = calls.novu.find((c) => c.idempotencyKey === key(soon.id, "client"))!;
      expect(notice.url).toBe("https://api.novu.co/v1/events/trigger");
      expect(notice.body).toMatchObject({
        name: "appointment-reminder",
        to: { subscriberId: soon.client.id, email: soon.client.email },
        transactionId: key(soon.id, "client"),
        payload: { appointmentId: soon.id, kind: o.kind },
      });
      for (const b of [unpaid, beyond, cancelled, started]) expect(await claims(b.id)).toEqual([]);
      expect(await claims(soon.id)).toEqual([
        { key: key(soon.id, "client"), job: job.name, status: "succeeded", attempts: 1 },
        { key: key(soon.id, "expert"), job: job.name, status: "succeeded", attempts: 1 },
      ]);

      // A repeat sends nothing new.
      expect(await run()).toMatchObject({ status: "succeeded", stats: { sent: 0, failed: 0 } });
      expect(calls.resend).toHaveLength(4);
      expect(calls.novu).toHaveLength(4);
    });

    it("sends each reminder once when two runs race", async () => {
      clock = day(2);
      const calls = vendors({ resend: { delayMs: 10 }, novu: { delayMs: 5 } });
      const ids = await Promise.all(Array.from({ length: 15 }, (_, i) => booking(clock, inWindow(clock, (i + 1) / 16)).then((b) => b.id)));
      const [a, b] = await Promise.all([run(), run()]);
      if (a.status !== "succeeded" || b.status !== "succeeded") throw new Error(`runs failed: ${a.status} ${b.status}`);
      expect((a.stats.sent as number) + (b.stats.sent as number)).toBe(30);
      const wanted = ids.flatMap((id) => [key(id, "client"), key(id, "expert")]).sort();
      expect(calls.resend.map((c) => c.idempotencyKey).sort()).toEqual(wanted);
      expect(calls.novu.map((c) => c.idempotencyKey).sort()).toEqual(wanted);
    });

    it("sends each reminder once when 20 runs race over more than one page", async () => {
      clock = day(3);
      const calls = vendors({ resend: { delayMs: 2 }, novu: { delayMs: 1 } });
      // 260 appointments, 520 reminders: more than a page (500), so runs also meet on the second.
      const expert = await insertExpert();
      const client = await insertClient();
      const ids = (
        await sql()<{ id: string }[]>`
          insert into appointments (expert_id, client_id, starts_at, ends_at, status)
          select ${expert.id}, ${client.id}, t, t + interval '1 hour', 'confirmed'
            from (select ${clock}::timestamptz + make_interval(secs => i * ${o.windowMs / 1000 / 261}::float8) as t from generate_series(1, 260) i) s
          returning id`
      ).map((r) => r.id);
      const outs = await Promise.all(Array.from({ length: 20 }, () => run()));
      for (const out of outs) if (out.status !== "succeeded") throw new Error(`a run ended ${out.status}: ${JSON.stringify(out)}`);
      expect(outs.reduce((n, out) => n + (out.status === "succeeded" ? (out.stats.sent as number) : 0), 0)).toBe(520);
      const wanted = ids.flatMap((id) => [key(id, "client"), key(id, "expert")]).sort();
      expect(calls.resend.map((c) => c.idempotencyKey).sort()).toEqual(wanted);
      expect(calls.novu.map((c) => c.idempotencyKey).sort()).toEqual(wanted);
      const [made] = await sql()`select count(*)::int as n, max(attempts) as attempts from effects where key = any(${wanted}) and status = 'succeeded'`;
      expect(made).toEqual({ n: 520, attempts: 1 });
    });

    it("counts a Resend 500 for one recipient, sends the rest, and sends it (same key) once its backoff has passed", async () => {
      clock = day(4);
      const b1 = await booking(clock, inWindow(clock, 0.5));
      const b2 = await booking(clock, inWindow(clock, 0.6));
      const bad = key(b1.id, "expert");
      const calls = vendors({ resend: { respond: (c) => (c.idempotencyKey === bad ? resendError(500, "internal_server_error", "Unexpected error") : undefined) } });
      expect(await run()).toMatchObject({ status: "succeeded", stats: { sent: 3, failed: 1 } });
      expect(calls.novu.map((c) => c.idempotencyKey)).not.toContain(bad);
      // A 5xx may have sent it: unknown, tried again with the same key (Resend drops a repeat).
      expect(await claims(b1.id)).toEqual([
        { key: key(b1.id, "client"), job: job.name, status: "succeeded", attempts: 1 },
        { key: bad, job: job.name, status: "unknown", attempts: 1 },
      ]);
      const [waiting] = await sql()`select next_attempt_at, last_error from effects where key = ${bad}`;
      expect(waiting).toMatchObject({ last_error: expect.stringMatching(/500/) });
      // Due again after the first backoff (a minute, jittered in its upper half), not at once.
      expect((waiting!.next_attempt_at as Date).getTime() - clock.getTime()).toBeGreaterThanOrEqual(30_000);
      expect(await run()).toMatchObject({ status: "succeeded", stats: { sent: 0, failed: 0 } });
      expect(calls.resend).toHaveLength(4);

      const later = vendors();
      clock = at(day(4), 60_000);
      expect(await run()).toMatchObject({ status: "succeeded", stats: { sent: 1, failed: 0 } });
      expect(later.resend.map((c) => c.idempotencyKey)).toEqual([bad]);
      expect(later.novu.map((c) => c.idempotencyKey)).toEqual([bad]);
      expect(await claims(b1.id)).toContainEqual({ key: bad, job: job.name, status: "succeeded", attempts: 2 });
      expect((await claims(b2.id)).map((c) => c.status)).toEqual(["succeeded", "succeeded"]);
    });

    it("ends the run with 429 and Resend's Retry-After, and leaves every unsent reminder to the next run", async () => {
      clock = day(6);
      const ids = [(await booking(clock, inWindow(clock, 0.3))).id, (await booking(clock, inWindow(clock, 0.4))).id];
      vendors({ resend: { respond: () => resendError(429, "rate_limit_exceeded", "Too many requests: 2 per second", { "retry-after": "3" }) } });
      const res = await jobRoute("cron", async () => deps).GET(bearerRequest(`/api/cron/${job.name}`, `Bearer ${CRON_SECRET}`), params(job.name));
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("3");
      for (const id of ids) expect(await claims(id)).toEqual([]);

      const calls = vendors();
      expect(await run()).toMatchObject({ status: "succeeded", stats: { sent: 4 } });
      expect(calls.resend.map((c) => c.idempotencyKey).sort()).toEqual(ids.flatMap((id) => [key(id, "client"), key(id, "expert")]).sort());
    });
  });
}
