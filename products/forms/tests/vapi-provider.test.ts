import { randomUUID } from "node:crypto";
import { HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { createDb } from "@/lib/db";
import { ConfigError, NonRetryableError, ProviderError, RetryAfterError } from "@/lib/errors";
import { outcomeOf } from "@/lib/jobs/effects";
import { createProviders } from "@/lib/providers";
import type { Providers } from "@/lib/providers/types";
import { describeOutboxEntry, recentOutbox } from "@/lib/providers/outbox";
import { server } from "../../../tests/mocks/server";
import { vapiAnswers, vapiCalls, VAPI_ENV } from "../../../tests/mocks/vapi";
import { sql, testEnv } from "../../../tests/support/app";
import { formsEnv } from "../env";
import { formsProviders } from "../providers";

const providersFor = (overrides: Record<string, string | undefined>) => {
  const env = testEnv(overrides);
  return createProviders(env, createDb(env.database));
};
const modes = (p: Providers) => formsProviders.modes(p);
const voice = (p: Providers) => formsProviders.of(p).voice();
const request = (key = `call:${randomUUID()}`) => ({ customer: { number: "+14155550123", name: "Ada" }, key });

describe("the voice provider", () => {
  it("places a call with the assistant, the number it calls from and the customer, Bearer key", async () => {
    const vapi = vapiCalls();
    server.use(...vapi.handlers);
    const p = providersFor(VAPI_ENV);
    expect(modes(p).vapi).toBe("live");
    const call = await voice(p).call(request());
    expect(call).toEqual({ id: expect.any(String), status: "queued" });
    expect(vapi.calls).toEqual([
      { authorization: `Bearer ${VAPI_ENV.VAPI_API_KEY}`, body: { assistantId: VAPI_ENV.VAPI_ASSISTANT_ID, phoneNumberId: VAPI_ENV.VAPI_PHONE_NUMBER_ID, customer: { number: "+14155550123", name: "Ada" } } },
    ]);
  });

  it("maps Vapi's errors onto the error tree, and so onto effect outcomes", async () => {
    const answers = [vapiAnswers.rateLimited(42), vapiAnswers.serverError(), vapiAnswers.invalidNumber(), HttpResponse.json({ message: "Invalid Key" }, { status: 401 })];
    const vapi = vapiCalls({ respond: (_, n) => answers[n - 1] });
    server.use(...vapi.handlers);
    const vapiVoice = voice(providersFor(VAPI_ENV));
    const err = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);
    const limited = await err(vapiVoice.call(request()));
    expect(limited).toBeInstanceOf(RetryAfterError);
    expect((limited as RetryAfterError).retryAfterSeconds).toBe(42);
    const down = await err(vapiVoice.call(request()));
    expect(down).toBeInstanceOf(ProviderError);
    expect(outcomeOf(down)).toBe("unknown");
    const refused = await err(vapiVoice.call(request()));
    expect(refused).toBeInstanceOf(NonRetryableError);
    expect(refused!.message).toMatch(/^Vapi refused the call to \+14155550123 \(HTTP 400: customer\.number must be a valid phone number/);
    expect(outcomeOf(refused)).toBe("abandoned");
    expect(await err(vapiVoice.call(request()))).toBeInstanceOf(ConfigError);
  });

  it("locally without a key, records the call in the outbox as provider vapi, once per key", async () => {
    const p = providersFor({ APP_ENV: "local", APP_URL: "http://localhost:3000" });
    expect(modes(p).vapi).toBe("outbox");
    const key = `call:${randomUUID()}`;
    const first = await voice(p).call(request(key));
    expect(await voice(p).call(request(key))).toEqual(first);
    const rows = await sql()<{ provider: string; payload: unknown }[]>`select provider, payload from provider_outbox where idempotency_key = ${key}`;
    expect(rows).toEqual([{ provider: "vapi", payload: { to: "+14155550123", name: "Ada" } }]);
    const [entry] = (await recentOutbox(createDb(testEnv().database), { limit: 1000 })).filter((e) => e.key === key);
    expect(describeOutboxEntry(entry!)).toBe(`vapi   +14155550123  (key ${key})`);
  });

  it("outside local mode without a key: a ConfigError naming VAPI_API_KEY; a key alone is refused at boot", () => {
    const p = providersFor({});
    expect(modes(p).vapi).toBe("missing");
    expect(() => voice(p)).toThrow(ConfigError);
    expect(() => voice(p)).toThrow(/^VAPI_API_KEY is not set/);
    // The product's env, which boot checks for every enabled product (config/app.ts, loadAppEnv).
    expect(formsEnv.problems({ VAPI_API_KEY: VAPI_ENV.VAPI_API_KEY }, "test")).toEqual([expect.stringMatching(/VAPI_API_KEY needs VAPI_ASSISTANT_ID and VAPI_PHONE_NUMBER_ID/)]);
    expect(() => formsEnv.of(testEnv({ VAPI_API_KEY: VAPI_ENV.VAPI_API_KEY }))).toThrow(/VAPI_API_KEY needs VAPI_ASSISTANT_ID and VAPI_PHONE_NUMBER_ID/);
  });
});
