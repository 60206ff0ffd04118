import { describe, expect, it } from "vitest";
import { destinationProblem, isLocalQStash, isPrivateHost } from "../../lib/qstash/destinations";

describe("destinations", () => {
  it("knows private and local hosts", () => {
    for (const h of ["localhost", "127.0.0.1", "10.1.2.3", "192.168.0.10", "172.16.5.5", "172.31.255.1", "[::1]", "app.local", "fd12::1"]) {
      expect(isPrivateHost(h), h).toBe(true);
    }
    for (const h of ["jobs.example.com", "172.32.0.1", "8.8.8.8", "fdroid.org", "local.example.com"]) expect(isPrivateHost(h), h).toBe(false);
  });

  it("refuses local or plain-http destinations only against the cloud", () => {
    expect(isLocalQStash("http://127.0.0.1:8080")).toBe(true);
    expect(destinationProblem("http://127.0.0.1:8080", "http://localhost:3000/api/jobs/x")).toBeUndefined();
    expect(destinationProblem("https://qstash.upstash.io", "http://localhost:3000/api/jobs/x")).toMatch(/cloud QStash .* cannot reach: set APP_URL/);
    expect(destinationProblem("https://qstash.upstash.io", "http://jobs.example.com/api/jobs/x")).toMatch(/not https/);
    expect(destinationProblem("https://qstash.upstash.io", "https://jobs.example.com/api/jobs/x")).toBeUndefined();
  });
});
