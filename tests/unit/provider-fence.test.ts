import { describe, expect, it } from "vitest";
import { loadEnv } from "../../lib/env";
import { defineProductProviders } from "../../lib/products";
import { createProviders } from "../../lib/providers";
import { providersWithSignal } from "../../lib/providers/bind";

/** A vendor of the test's own, as a product declares one: it records each call and the signal it got. */
const calls: { to: string; signal: AbortSignal | undefined }[] = [];
const sms = defineProductProviders(
  "sms-test",
  () => ({ sms: () => ({ send: async (m: { to: string }, signal?: AbortSignal) => void calls.push({ to: m.to, signal }) }) }),
  () => ({ sms: true }),
);

describe("the providers as a run sees them (providersWithSignal)", () => {
  const base = createProviders(loadEnv({ APP_ENV: "local" }), { rpc: async () => undefined } as never);

  it("gives a product's vendor the run's signal when the call passes none, and the call's own otherwise", async () => {
    calls.length = 0;
    const run = new AbortController();
    const own = new AbortController();
    const view = providersWithSignal(base, run.signal);
    await sms.of(view).sms().send({ to: "a" });
    await sms.of(view).sms().send({ to: "b" }, own.signal);
    expect(calls).toEqual([
      { to: "a", signal: run.signal },
      { to: "b", signal: own.signal },
    ]);
  });

  it("lets no request of a product's vendor or the layer's leave once the fence throws", async () => {
    calls.length = 0;
    let lost = false;
    const fence = () => {
      if (lost) throw new Error("lease lost");
    };
    const view = providersWithSignal(base, new AbortController().signal, fence);
    const vendor = sms.of(view).sms();
    await vendor.send({ to: "before" });
    lost = true;
    await expect(async () => vendor.send({ to: "after" })).rejects.toThrow("lease lost");
    await expect(async () => view.email().send({ to: "x@example.test", subject: "s", text: "t", html: "<p>t</p>", idempotencyKey: "k" })).rejects.toThrow("lease lost");
    expect(calls.map((c) => c.to)).toEqual(["before"]);
  });

  it("builds a product's vendors once per deployment and binds them per run", () => {
    const a = providersWithSignal(base, new AbortController().signal);
    const b = providersWithSignal(base, new AbortController().signal);
    expect(sms.of(a)).toBe(sms.of(a));
    expect(sms.of(a)).not.toBe(sms.of(b));
    expect(sms.modes(a)).toEqual({ sms: "live" });
  });
});
