import { expect, it } from "vitest";
import { signJwt } from "../../dev/qstash/sign";
import { bearerRequest, claimsFor, CRON_SECRET, KEYS, qstashRequest } from "./app";

type Handler = (req: Request) => Promise<Response>;

export interface SignedRouteUnderTest {
  /** The route's path, e.g. /api/cron/my-job. */
  path: string;
  /** Another signed route of the app: its signatures must not open this one. */
  otherPath: string;
  body: string;
  handle: Handler;
  /** The same route built with CRON_SECRET unset. */
  handleWithoutSecret: Handler;
  /** How many rows the route has written (ledger, dead letters): rejected requests write none. */
  written: () => Promise<number>;
  /** Whether the Bearer secret is a way in (job routes) or not (the failure callback). */
  bearer: boolean;
  /** A fresh body for each accepted request, where the route dedupes by body. */
  freshBody?: () => string;
}

/**
 * Every signed route passes this: each way a request can be forged or replayed is refused with
 * 401 and writes nothing. Requests are signed for real (HS256); the verifier is never mocked.
 */
export function signedRouteContract(get: () => SignedRouteUnderTest) {
  const rejects = async (req: Request, reason: RegExp) => {
    const r = get();
    const before = await r.written();
    const res = await r.handle(req);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toMatch(reason);
    expect(await r.written()).toBe(before);
  };
  const url = () => `https://jobs.example.test${get().path}`;

  it("accepts a delivery signed with the current key", async () => {
    const r = get();
    const before = await r.written();
    const res = await r.handle(qstashRequest(r.path, r.freshBody?.() ?? r.body));
    expect(res.status).toBe(200);
    expect(await r.written()).toBe(before + 1);
  });

  it("accepts a delivery signed with the next key (key rotation)", async () => {
    const r = get();
    expect((await r.handle(qstashRequest(r.path, r.freshBody?.() ?? r.body, { key: KEYS.next }))).status).toBe(200);
  });

  it("rejects a request with neither signature nor bearer", () => rejects(bearerRequest(get().path, undefined, { method: "POST", body: get().body }), /missing/));

  it("rejects a malformed token", () => rejects(qstashRequest(get().path, get().body, { signature: "not.a.jwt" }), /invalid signature/));

  it("rejects a token signed with a wrong key", () => rejects(qstashRequest(get().path, get().body, { key: "sig_someone_elses_key_000000" }), /invalid signature/));

  it("rejects an expired token", () => {
    const now = Math.floor(Date.now() / 1000);
    return rejects(qstashRequest(get().path, get().body, { claims: { iat: now - 900, nbf: now - 900, exp: now - 600 } }), /invalid signature.*exp/);
  });

  it("rejects a token not valid yet (nbf in the future)", () => {
    const now = Math.floor(Date.now() / 1000);
    return rejects(qstashRequest(get().path, get().body, { claims: { nbf: now + 600, exp: now + 900 } }), /invalid signature.*nbf/);
  });

  it("accepts a token a few seconds ahead of our clock (QStash's clock leads), within the tolerance", async () => {
    const r = get();
    const now = Math.floor(Date.now() / 1000);
    const res = await r.handle(qstashRequest(r.path, r.freshBody?.() ?? r.body, { claims: { iat: now + 3, nbf: now + 3, exp: now + 300 } }));
    expect(res.status).toBe(200);
  });

  it("rejects a token whose exp has just passed: the skew tolerance is not for exp", () => {
    const now = Math.floor(Date.now() / 1000);
    return rejects(qstashRequest(get().path, get().body, { claims: { iat: now - 300, nbf: now - 300, exp: now - 2 } }), /invalid signature.*expired/);
  });

  it("rejects a token without exp", () => rejects(qstashRequest(get().path, get().body, { claims: { exp: undefined } }), /no exp/));

  it("rejects a token without a body claim", () => rejects(qstashRequest(get().path, get().body, { claims: { body: undefined } }), /invalid signature/));

  it("rejects a signature made for another route (wrong sub)", () => {
    const r = get();
    const stolen = signJwt(claimsFor(`https://jobs.example.test${r.otherPath}`, r.body), KEYS.current);
    return rejects(qstashRequest(r.path, r.body, { signature: stolen }), /invalid subject/);
  });

  it("rejects a signature made for another host", () => {
    const r = get();
    return rejects(qstashRequest(r.path, r.body, { url: `https://evil.example.test${r.path}` }), /invalid subject/);
  });

  it("rejects a tampered body", () => {
    const r = get();
    const signature = signJwt(claimsFor(url(), r.body), KEYS.current);
    return rejects(qstashRequest(r.path, r.body.replace(/}$/, ',"x":1}'), { signature }), /body hash/);
  });

  it("accepts a jti once: a replay with another message id is refused", async () => {
    const r = get();
    const body = r.freshBody?.() ?? r.body;
    const signature = signJwt(claimsFor(url(), body), KEYS.current);
    expect((await r.handle(qstashRequest(r.path, body, { signature, messageId: "msg_first" }))).status).toBe(200);
    await rejects(qstashRequest(r.path, body, { signature, messageId: "msg_second" }), /already used/);
  });

  const bearerReason = () => (get().bearer ? /wrong Bearer/ : /accepts only QStash-signed/);

  it("rejects a wrong bearer secret", () => rejects(bearerRequest(get().path, "Bearer not-the-secret-at-all", { method: "POST", body: get().body }), bearerReason()));

  it("rejects an empty bearer", () => rejects(bearerRequest(get().path, "Bearer ", { method: "POST", body: get().body }), bearerReason()));

  it("rejects `Bearer undefined` when CRON_SECRET is unset", async () => {
    const r = get();
    const before = await r.written();
    for (const auth of ["Bearer undefined", "Bearer ", "Bearer null"]) {
      const res = await r.handleWithoutSecret(bearerRequest(r.path, auth, { method: "POST", body: r.body }));
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toMatch(r.bearer ? /CRON_SECRET is not set/ : /accepts only QStash-signed/);
    }
    expect(await r.written()).toBe(before);
  });

  it("answers the bearer secret as the route's policy says (a way in, or not)", async () => {
    const r = get();
    const before = await r.written();
    const res = await r.handle(bearerRequest(r.path, `Bearer ${CRON_SECRET}`, { method: "POST", body: r.body }));
    expect(res.status).toBe(r.bearer ? 200 : 401);
    expect(await r.written()).toBe(before + (r.bearer ? 1 : 0));
  });
}
