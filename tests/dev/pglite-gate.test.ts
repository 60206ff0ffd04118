import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../../dev/pglite";

/**
 * The embedded database is one session behind a socket server. Without the gate, two pools' extended
 * protocol exchanges interleave ("portal "" does not exist", "bind message supplies 3 parameters")
 * and one client's statements run inside another's transaction.
 */
let dir: string;
let pg: Awaited<ReturnType<typeof startEmbeddedPostgres>>;
const pools: postgres.Sql[] = [];
const pool = (max: number) => {
  const sql = postgres(pg.url, { max, onnotice: () => {} });
  pools.push(sql);
  return sql;
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "pglite-gate-"));
  pg = await startEmbeddedPostgres({ dataDir: dir, port: 0 });
}, 60_000);

afterAll(async () => {
  for (const p of pools) await p.end({ timeout: 1 });
  await pg?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("embedded PostgreSQL with clients of any pool size", () => {
  it("answers 600 concurrent parameterised queries and transactions from a pool of 1 and a pool of 5, each correctly", async () => {
    const [one, five] = [pool(1), pool(5)];
    const errors: string[] = [];
    await Promise.all(
      Array.from({ length: 600 }, async (_, i) => {
        const sql = i % 3 ? five : one;
        try {
          if (i % 5 === 0) {
            const n = await sql.begin(async (tx) => {
              await tx`select ${i}::int`;
              const [r] = await tx`select ${i}::int + ${2}::int + ${3}::int as n`;
              return r!.n as number;
            });
            if (n !== i + 5) errors.push(`transaction ${i}: ${n}`);
          } else {
            const [r] = await sql`select ${i}::int + ${1}::int as n, ${`x${i}`}::text as s`;
            if (r!.n !== i + 1 || r!.s !== `x${i}`) errors.push(`query ${i}: ${JSON.stringify(r)}`);
          }
        } catch (err) {
          errors.push(`${i}: ${(err as Error).message}`);
        }
      }),
    );
    expect(errors).toEqual([]);
  });

  it("keeps another client out of an open transaction: it waits, and never sees what is rolled back", async () => {
    const [a, b] = [pool(1), pool(1)];
    await a`create table if not exists gate_probe (n int)`;
    let seen: number | undefined;
    let counted: Promise<void> | undefined;
    await a
      .begin(async (tx) => {
        await tx`insert into gate_probe values (1)`;
        counted = b`select count(*)::int as n from gate_probe`.then(([r]) => void (seen = r!.n as number));
        await new Promise((r) => setTimeout(r, 100));
        expect(seen).toBeUndefined();
        throw new Error("roll back");
      })
      .catch((err: Error) => expect(err.message).toBe("roll back"));
    await counted;
    expect(seen).toBe(0);
  });
});
