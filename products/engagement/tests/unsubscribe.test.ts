import { beforeEach, describe, expect, it } from "vitest";
import { engagementEnv } from "../env";
import { unsubscribeRoute } from "../http/unsubscribe";
import { unsubscribeToken, unsubscribeUrl } from "../lib/unsubscribe-token";
import { sql, testDeps, testEnv } from "../../../tests/support/app";
import { ENGAGEMENT_JOBS, insertLearner, resetEngagement } from "./support";

const SECRET = "unsubscribe-secret-for-tests-0123456789abcdef";
const deps = testDeps(ENGAGEMENT_JOBS, [], { UNSUBSCRIBE_SECRET: SECRET });
const route = unsubscribeRoute(async () => deps);
const get = (url: string) => route.GET(new Request(url));
const state = async (id: string) =>
  (await sql()<{ reminders_opted_in: boolean; unsubscribed: boolean }[]>`select reminders_opted_in, unsubscribed_at is not null as unsubscribed from learners where id = ${id}`)[0];

beforeEach(() => resetEngagement());

describe("GET /api/engagement/unsubscribe", () => {
  it("turns the learner's engagement emails off and confirms; a second click changes nothing", async () => {
    const l = await insertLearner();
    const other = await insertLearner();
    const url = unsubscribeUrl(deps.env, l.id);
    const res = await get(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await res.text()).toContain("<h1 style=\"font-size:22px\">You are unsubscribed</h1>");
    expect(await state(l.id)).toEqual({ reminders_opted_in: false, unsubscribed: true });
    expect(await state(other.id)).toEqual({ reminders_opted_in: true, unsubscribed: false });
    expect((await get(url)).status).toBe(200);
  });

  it.each([
    ["no token", (_id: string) => ""],
    ["a token for another learner's id with this one's signature", (id: string) => `${"0".repeat(8)}-0000-4000-8000-000000000000.${unsubscribeToken(SECRET, id).split(".")[1]}`],
    ["a signature from another secret", (id: string) => unsubscribeToken("another-secret-of-the-same-length-0123456789", id)],
    ["a truncated signature", (id: string) => unsubscribeToken(SECRET, id).slice(0, -2)],
    ["a learner id that is not a uuid", () => "1 or 1=1.abc"],
  ])("answers 400 and changes nothing for %s", async (_what, token) => {
    const l = await insertLearner();
    const res = await get(`https://jobs.example.test/api/engagement/unsubscribe?token=${encodeURIComponent(token(l.id))}`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("This link is not valid");
    expect(await state(l.id)).toEqual({ reminders_opted_in: true, unsubscribed: false });
  });

  it("fails closed in production without UNSUBSCRIBE_SECRET: 503, nothing changes", async () => {
    const l = await insertLearner();
    const prod = testEnv({ APP_ENV: "production", APP_URL: "https://jobs.example.test", SCHEDULE_PREFIX: "prod" });
    expect(engagementEnv.of(prod).unsubscribeSecret).toBeUndefined();
    const closed = unsubscribeRoute(async () => ({ ...deps, env: prod }));
    const res = await closed.GET(new Request(`https://jobs.example.test/api/engagement/unsubscribe?token=${unsubscribeToken(SECRET, l.id)}`));
    expect(res.status).toBe(503);
    expect(await state(l.id)).toEqual({ reminders_opted_in: true, unsubscribed: false });
    expect(() => unsubscribeUrl(prod, l.id)).toThrow(/UNSUBSCRIBE_SECRET is not set/);
  });
});
