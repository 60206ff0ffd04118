import { describe, expect, it } from "vitest";
import { sql } from "../support/app";

class Rollback extends Error {}

describe("admin_tasks_due pages by (run_at, id)", () => {
  it("walks 120 due tasks, 50 to a page, each once and in order, ties on run_at broken by id", async () => {
    const seen: { id: string; run_at: string }[] = [];
    // Inside a transaction that rolls back: other test files never see these tasks.
    await sql()
      .begin(async (tx) => {
        await tx`insert into admin_tasks (kind, run_at)
                 select 'keyset', timestamptz '1971-01-01' + (g % 3) * interval '1 minute' from generate_series(1, 120) g`;
        let after: { run_at: string; id: string } | undefined;
        for (let page = 0; page < 5; page++) {
          const [row] = await tx`select admin_tasks_due(timestamptz '1971-01-02', ${after?.run_at ?? null}, ${after?.id ?? null}, 50) as due`;
          const due = row!.due as { id: string; run_at: string }[];
          if (!due.length) break;
          seen.push(...due);
          after = due.at(-1);
        }
        throw new Rollback();
      })
      .catch((e) => {
        if (!(e instanceof Rollback)) throw e;
      });
    expect(seen).toHaveLength(120);
    expect(new Set(seen.map((t) => t.id)).size).toBe(120);
    const keys = seen.map((t) => `${new Date(t.run_at).toISOString()} ${t.id}`);
    expect(keys).toEqual([...keys].sort());
  });
});
