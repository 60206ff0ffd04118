import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { Bench } from "tinybench";
import { signDelivery } from "../dev/qstash/sign";
import { createDeps } from "../lib/deps";
import { loadEnv } from "../lib/env";
import { defineJob } from "../lib/jobs/define";
import { createRegistry } from "../lib/jobs/registry";
import { authenticate } from "../lib/auth";
import { jobRoute } from "../lib/http/job-route";
import { json } from "../lib/http/respond";

/**
 * The cost of the pipeline per delivery: signature check + ledger open + ledger close, against the
 * same trivial job behind a route with no pipeline (read body, parse, run, answer).
 */
export async function pipelineBench(databaseUrl: string) {
  const APP = "https://bench.example.test";
  const key = "sig_bench_current_key_000000";
  const name = `bench-${randomUUID().slice(0, 8)}`;
  const job = defineJob({ name, description: "bench", overlap: "allow", handler: async ({ payload }) => ({ n: Object.keys(payload).length }) });
  const env = loadEnv({ APP_ENV: "test", APP_URL: APP, QSTASH_CURRENT_SIGNING_KEY: key, QSTASH_NEXT_SIGNING_KEY: "sig_bench_next_key_00000000", DATABASE_URL: databaseUrl, LOG_LEVEL: "silent" });
  const deps = createDeps(env, createRegistry([job], []));
  const route = jobRoute("jobs", async () => deps);
  const floor = postgres(databaseUrl, { max: 1, prepare: false, onnotice: () => {} });
  const ctx = { params: Promise.resolve({ job: name }) };
  const body = JSON.stringify({ id: 1 });
  const url = `${APP}/api/jobs/${name}`;

  const baseline = async (req: Request) => {
    const payload = job.payload.parse(JSON.parse(await req.text()));
    const stats = await job.handler({ payload } as never);
    return json(200, { status: "succeeded", stats });
  };
  // Requests are signed outside the timed function: QStash signs, not us.
  const signed = () =>
    new Request(`http://127.0.0.1${new URL(url).pathname}`, {
      method: "POST",
      body,
      headers: { "upstash-signature": signDelivery({ url, body, key }), "upstash-message-id": `msg_${randomUUID()}`, "content-type": "application/json" },
    });
  let nextReq: Request = signed();

  const bench = new Bench({ time: 3000, warmupTime: 500 });
  bench
    .add("no pipeline (baseline)", async () => {
      const res = await baseline(nextReq);
      if (res.status !== 200) throw new Error(`baseline answered ${res.status}`);
    }, { beforeEach: () => void (nextReq = signed()) })
    .add("signature verify only", async () => {
      const auth = await authenticate(nextReq, await nextReq.text(), url, { keys: env.qstash, cronSecret: undefined });
      if (!auth.ok) throw new Error(auth.reason);
    }, { beforeEach: () => void (nextReq = signed()) })
    .add("pipeline: verify + open + close", async () => {
      const res = await route.POST(nextReq, ctx);
      if (res.status !== 200) throw new Error(`pipeline answered ${res.status}: ${await res.text()}`);
    }, { beforeEach: () => void (nextReq = signed()) })
    // What no ledger can beat: the signature check and two committed one-row writes (open, close).
    .add("floor: verify + two committed writes", async () => {
      const auth = await authenticate(nextReq, await nextReq.text(), url, { keys: env.qstash, cronSecret: undefined });
      if (!auth.ok || auth.trigger !== "qstash") throw new Error(auth.ok ? "not a signed delivery" : auth.reason);
      await floor`insert into used_signatures (jti, expires_at) values (${auth.jti}, now())`;
      await floor`update used_signatures set expires_at = now() where jti = ${auth.jti}`;
    }, { beforeEach: () => void (nextReq = signed()) });
  await bench.run();
  await deps.db.close();
  await floor.end();
  return bench;
}
