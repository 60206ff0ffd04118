import { randomUUID } from "node:crypto";
import postgres from "postgres";

declare global {
  var __cronlayerTestDatabaseUrl: string | undefined;
}

/**
 * This test file's own database: a copy of the migrated template made for this run. Jobs act on
 * whole tables (every due payout, every expired hold), so files sharing one database would see
 * each other's rows.
 */
export function testDatabaseUrl(): string {
  const url = globalThis.__cronlayerTestDatabaseUrl;
  if (!url) throw new Error("no test database: tests/support/setup.ts creates one per test file");
  return url;
}

const withPath = (url: string, db: string) => {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
};

export async function createFileDatabase(templateUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const template = new URL(templateUrl).pathname.slice(1);
  const name = `${template}_${randomUUID().slice(0, 8)}`;
  const admin = postgres(withPath(templateUrl, "postgres"), { max: 1, onnotice: () => {} });
  // Copies from one template may collide ("being accessed by other users"): try again shortly.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.unsafe(`create database ${name} template ${template}`);
      break;
    } catch (err) {
      if ((err as { code?: string }).code !== "55006" || attempt > 50) throw err;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
  }
  return {
    url: withPath(templateUrl, name),
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
